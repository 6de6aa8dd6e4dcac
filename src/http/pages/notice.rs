//! What a page says after an action that redirected to it (`?fait=CODE`): one list for every
//! area, each notice with its code in the URL and its French sentence.

/// A notice shown once after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// An offer published.
    Published,
    /// An offer archived.
    Archived,
    /// An archived offer published again.
    Republished,
    /// An offer marked filled.
    Filled,
    /// A filled offer reopened.
    Reopened,
    /// An offer copied into a new draft.
    Copied,
    /// A new draft saved.
    DraftCreated,
    /// An offer's changes saved.
    OfferSaved,
    /// An offer's diffusion renewed.
    Renewed,
    /// A draft deleted.
    DraftDeleted,
    /// A document attached to an offer.
    Attached,
    /// A document removed from an offer.
    Detached,
    /// A recruiter's request approved.
    Approved,
    /// A recruiter's request refused.
    Refused,
    /// A service added.
    ServiceAdded,
    /// A service renamed.
    ServiceRenamed,
    /// A membership of a service added.
    MemberAdded,
    /// A membership of a service removed.
    MemberRemoved,
    /// An account disabled.
    Disabled,
    /// An account enabled again.
    Enabled,
    /// An offer withdrawn by an administrator.
    Moderated,
    /// A candidate's details saved.
    DetailsSaved,
    /// A new address waiting for its confirmation link.
    AddressPending,
    /// A password changed.
    PasswordChanged,
    /// An alert switched on.
    AlertOn,
    /// An alert switched off.
    AlertOff,
    /// A saved search changed.
    SearchSaved,
    /// A saved search deleted.
    SearchDeleted,
    /// An offer starred.
    FavoriteAdded,
    /// An offer unstarred.
    FavoriteRemoved,
    /// A candidate's document uploaded.
    DocumentAdded,
    /// A document renamed.
    DocumentRenamed,
    /// A document's file replaced.
    DocumentReplaced,
    /// A document made the default of its kind.
    DocumentDefault,
    /// A document deleted.
    DocumentDeleted,
    /// An application sent.
    ApplicationSent,
    /// Every alert paused.
    AlertsPaused,
    /// Every alert resumed.
    AlertsResumed,
    /// A reported offer withdrawn.
    ReportWithdrawn,
    /// A report dismissed.
    ReportDismissed,
    /// The other sessions of an account closed.
    SessionsClosed,
    /// A colleague invited.
    Invited,
    /// A member's role changed.
    RoleChanged,
    /// An offer moved to another service.
    Transferred,
    /// A service's details saved.
    ServiceDetailsSaved,
    /// An empty service deleted.
    ServiceDeleted,
    /// A service merged into another.
    /// An administration added.
    AdministrationAdded,
    /// An administration renamed.
    AdministrationRenamed,
    ServicesMerged,
}

use Notice::*;

/// Every notice: its code in the URL, its sentence.
const NOTICES: [(Notice, &str, &str); 49] = [
    (Published, "publish", "L'offre est publiée."),
    (Archived, "archive", "L'offre est archivée."),
    (Republished, "unarchive", "L'offre est publiée de nouveau."),
    (Filled, "filled", "L'offre est marquée pourvue."),
    (Reopened, "unfill", "L'offre est rouverte."),
    (Copied, "clone", "Copie créée : c'est un nouveau brouillon."),
    (DraftCreated, "created", "Brouillon enregistré."),
    (OfferSaved, "saved", "Modifications enregistrées."),
    (Renewed, "renew", "Diffusion renouvelée."),
    (DraftDeleted, "deleted", "Brouillon supprimé."),
    (Attached, "attached", "Document joint."),
    (Detached, "removed", "Document retiré."),
    (
        Approved,
        "approved",
        "Demande acceptée : le recruteur a reçu un lien pour choisir son mot de passe.",
    ),
    (
        Refused,
        "refused",
        "Demande refusée : le motif a été envoyé.",
    ),
    (ServiceAdded, "added", "Service ajouté."),
    (ServiceRenamed, "renamed", "Service modifié."),
    (MemberAdded, "member", "Rattachement ajouté."),
    (MemberRemoved, "unmember", "Rattachement retiré."),
    (
        Invited,
        "invited",
        "Invitation envoyée : la personne a reçu un message pour rejoindre l'espace.",
    ),
    (RoleChanged, "role", "Rôle modifié."),
    (
        Transferred,
        "transferred",
        "Offre transférée à l'autre service.",
    ),
    (
        ServiceDetailsSaved,
        "service_details",
        "Coordonnées du service enregistrées.",
    ),
    (ServiceDeleted, "service_deleted", "Service supprimé."),
    (
        AdministrationAdded,
        "administration_added",
        "Administration ajoutée : services, offres et recherche peuvent la choisir dès maintenant.",
    ),
    (
        AdministrationRenamed,
        "administration_renamed",
        "Administration renommée : l'ancien nom reste reconnu.",
    ),
    (
        ServicesMerged,
        "merged",
        "Services fusionnés : les offres et les membres ont rejoint l'autre service.",
    ),
    (
        Disabled,
        "disabled",
        "Compte désactivé : ses sessions sont terminées.",
    ),
    (Enabled, "enabled", "Compte réactivé."),
    (
        Moderated,
        "moderated",
        "Offre retirée : le motif a été envoyé à son service.",
    ),
    (
        DetailsSaved,
        "details",
        "Vos coordonnées sont enregistrées.",
    ),
    (
        AddressPending,
        "email",
        "Un lien a été envoyé à la nouvelle adresse : elle remplacera l'actuelle dès qu'il sera ouvert. Votre adresse actuelle en est informée.",
    ),
    (
        PasswordChanged,
        "password",
        "Mot de passe changé. Vos autres sessions sont fermées.",
    ),
    (AlertOn, "alert_on", "Alerte activée."),
    (AlertOff, "alert_off", "Alerte désactivée."),
    (SearchSaved, "search_saved", "Recherche enregistrée."),
    (SearchDeleted, "search_deleted", "Recherche supprimée."),
    (
        FavoriteAdded,
        "favorite_added",
        "Offre ajoutée à vos favoris.",
    ),
    (
        FavoriteRemoved,
        "favorite_removed",
        "Offre retirée de vos favoris.",
    ),
    (DocumentAdded, "document_added", "Document ajouté."),
    (DocumentRenamed, "document_renamed", "Document renommé."),
    (DocumentReplaced, "document_replaced", "Document remplacé."),
    (
        DocumentDefault,
        "document_default",
        "Document choisi par défaut pour vos candidatures.",
    ),
    (DocumentDeleted, "document_deleted", "Document supprimé."),
    (
        ApplicationSent,
        "application_sent",
        "Candidature envoyée : le recruteur a reçu votre message et vos documents, et vous en avez reçu une copie par courriel.",
    ),
    (
        AlertsPaused,
        "alerts_paused",
        "Vos alertes sont en veille : aucun courriel d'alerte ne part.",
    ),
    (
        AlertsResumed,
        "alerts_resumed",
        "Vos alertes sont de nouveau actives.",
    ),
    (
        ReportWithdrawn,
        "report_withdrawn",
        "Offre retirée de la diffusion : le motif a été envoyé à son service.",
    ),
    (
        ReportDismissed,
        "report_dismissed",
        "Signalement classé sans suite.",
    ),
    (
        SessionsClosed,
        "sessions",
        "Vos autres sessions sont fermées : seule celle-ci reste ouverte.",
    ),
];

impl Notice {
    fn entry(self) -> (Notice, &'static str, &'static str) {
        NOTICES
            .into_iter()
            .find(|(n, _, _)| *n == self)
            .expect("every notice is listed")
    }

    /// Its code in the URL.
    pub(crate) fn code(self) -> &'static str {
        self.entry().1
    }

    /// What the page says.
    pub(crate) fn text(self) -> &'static str {
        self.entry().2
    }

    /// The notice of a `fait` code, if any.
    pub(crate) fn parse(code: &str) -> Option<Notice> {
        NOTICES
            .into_iter()
            .find(|(_, c, _)| *c == code)
            .map(|(n, _, _)| n)
    }

    /// The sentence of `?fait=code`, when it names a notice.
    pub(crate) fn of_query(code: &str) -> Option<String> {
        Notice::parse(code).map(|n| n.text().to_string())
    }

    /// `path` showing this notice.
    pub(crate) fn after(self, path: &str) -> String {
        format!("{path}?fait={}", self.code())
    }

    /// The notice of an offer's lifecycle step (`publish`, `archive`, `clone`…).
    pub(crate) fn of_step(step: &str) -> Option<Notice> {
        Notice::parse(step).filter(|n| {
            matches!(
                n,
                Published | Archived | Republished | Filled | Reopened | Copied
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_has_one_code_and_a_sentence() {
        for (n, code, text) in NOTICES {
            assert_eq!(Notice::parse(code), Some(n), "{code} names one notice");
            assert_eq!((n.code(), n.text()), (code, text));
            assert!(text.ends_with('.'), "{text}");
        }
        assert_eq!(Notice::parse("anything"), None);
        assert_eq!(Notice::of_step("archive"), Some(Archived));
        assert_eq!(Notice::of_step("approved"), None, "not a step of an offer");
        assert_eq!(
            Published.after("/recruteur/offres/A-2026-0001"),
            "/recruteur/offres/A-2026-0001?fait=publish"
        );
    }
}
