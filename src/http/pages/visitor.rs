//! Who is asking for a page: the session (from its cookie), the role, the CSRF token, and the context every page template receives.

use super::*;

/// One step of the breadcrumbs: a link, or the current page (no link).
pub(crate) struct Crumb {
    pub label: String,
    pub url: Option<String>,
}

/// Who is logged in, as the header shows it.
pub(crate) struct Who {
    pub name: String,
    pub space_url: &'static str,
    pub space_label: &'static str,
}

/// What the layout of every page needs.
pub(crate) struct Ctx {
    pub who: Option<Who>,
    pub crumbs: Vec<Crumb>,
    pub csrf: String,
    /// The portal's name.
    pub site: std::sync::Arc<str>,
}

/// The person behind a request: their session's account if any, and the CSRF cookie (made
/// when absent). Never rejects: a page decides what an anonymous visitor gets.
pub(crate) struct Visitor {
    pub account: Option<Account>,
    pub session: Option<String>,
    /// The session could not be checked: the store is away (its private pages answer 503).
    pub(super) unavailable: Option<u64>,
    pub(super) csrf_cookie: String,
    pub(super) new_csrf: bool,
    pub(super) csrf: String,
    pub(super) secure: bool,
    /// The portal's name, which every page's title carries.
    pub(super) site: std::sync::Arc<str>,
}

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let (csrf_cookie, new_csrf) = match cookie(&parts.headers, CSRF_COOKIE) {
            Some(c) => (c.to_string(), false),
            None => (new_token().0, true),
        };
        let csrf = state
            .signer
            .sign(format!("csrf:{csrf_cookie}").as_bytes())
            .unwrap_or_default();
        let (account, unavailable) = match &session {
            Some(token) => {
                let (engine, links, token) =
                    (state.engine.clone(), state.links.clone(), token.clone());
                match blocking(move || Ok(Auth::new(&engine, &links).authenticate(&token))).await {
                    Ok(Ok(a)) => (Some(a), None),
                    Ok(Err(Error::Unavailable(_, wait))) => (None, Some(wait)),
                    _ => (None, None),
                }
            }
            None => (None, None),
        };
        Ok(Visitor {
            account,
            session,
            unavailable,
            csrf_cookie,
            new_csrf,
            csrf,
            secure: state.config.base_url().starts_with("https://"),
            site: state.site.clone(),
        })
    }
}

impl Visitor {
    /// The logged-in candidate, if the visitor is one.
    pub fn candidate(&self) -> Option<&Account> {
        self.account.as_ref().filter(|a| a.role == Role::Candidate)
    }

    /// A visitor known by nothing (for answers made outside a handler).
    pub fn anonymous(secure: bool, site: std::sync::Arc<str>) -> Visitor {
        Visitor {
            account: None,
            session: None,
            unavailable: None,
            csrf_cookie: String::new(),
            new_csrf: false,
            csrf: String::new(),
            secure,
            site,
        }
    }

    /// The layout of a page with these breadcrumbs (after "Accueil").
    pub fn ctx(&self, crumbs: &[(&str, Option<&str>)]) -> Ctx {
        let mut all = vec![Crumb {
            label: "Accueil".into(),
            url: Some("/".into()),
        }];
        all.extend(crumbs.iter().map(|(label, url)| Crumb {
            label: label.to_string(),
            url: url.map(str::to_string),
        }));
        if crumbs.is_empty() {
            all.clear();
        }
        Ctx {
            who: self.account.as_ref().map(|a| Who {
                name: format!("{} {}", a.first_name, a.last_name),
                space_url: space_of(a.role),
                space_label: match a.role {
                    Role::Candidate => "Mon compte",
                    Role::Recruiter => "Mes offres",
                    Role::Admin => "Administration",
                },
            }),
            crumbs: all,
            csrf: self.csrf.clone(),
            site: self.site.clone(),
        }
    }

    /// Refuses a changing form whose CSRF token is missing or wrong.
    pub fn check_csrf(&self, form: &Form) -> Result<(), PageError> {
        let given = form.get("csrf");
        if !self.new_csrf && !given.is_empty() && given == self.csrf {
            Ok(())
        } else {
            Err(message_page(
                self,
                StatusCode::FORBIDDEN,
                "Formulaire expiré",
                "Ce formulaire n'est plus valable (jeton de sécurité absent ou incorrect). Rechargez la page et recommencez.",
            )
            .into())
        }
    }

    /// The account if it has `role`, else a redirect to the login page (or a 403 page).
    pub fn require(&self, role: Role, back: &str) -> Result<&Account, PageError> {
        if let Some(wait) = self.unavailable {
            return Err(error_page(
                self,
                &Error::Unavailable("the database cannot be reached".into(), wait),
            )
            .into());
        }
        match &self.account {
            // New terms of use are accepted before anything else.
            Some(a) if a.terms_outdated() => Err(Redirect::to(&format!(
                "{}?{}",
                links::TERMS_ACCEPT,
                serde_urlencoded::to_string([("suite", back)]).unwrap_or_default()
            ))
            .into_response()
            .into()),
            Some(a) if a.role == role => Ok(a),
            Some(_) => Err(message_page(
                self,
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Votre compte ne donne pas accès à cette page.",
            )
            .into()),
            None => Err(Redirect::to(&format!(
                "{}?{}",
                links::LOGIN,
                serde_urlencoded::to_string([("suite", back)]).unwrap_or_default()
            ))
            .into_response()
            .into()),
        }
    }

    /// The account of any role, else a redirect to the login page.
    pub fn logged_in(&self, back: &str) -> Result<&Account, PageError> {
        if let Some(wait) = self.unavailable {
            return Err(error_page(
                self,
                &Error::Unavailable("the database cannot be reached".into(), wait),
            )
            .into());
        }
        self.account.as_ref().ok_or_else(|| {
            Redirect::to(&format!(
                "{}?{}",
                links::LOGIN,
                serde_urlencoded::to_string([("suite", back)]).unwrap_or_default()
            ))
            .into_response()
            .into()
        })
    }

    /// A form that changes something, from anyone: parsed, or the refusal of its CSRF token.
    pub fn form(&self, body: &[u8]) -> Result<Form, PageError> {
        let form = Form::parse(body);
        self.check_csrf(&form)?;
        // The honeypot: a field no person sees (hidden by the stylesheet, out of the
        // accessibility tree), which form-filling robots fill.
        if !form.get(HONEYPOT).is_empty() {
            metrics::counter!("forms_honeypot_total").increment(1);
            return Err(message_page(
                self,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Formulaire refusé",
                "Le champ « Site web » doit rester vide. Rechargez la page et recommencez.",
            )
            .into());
        }
        Ok(form)
    }

    /// A form that changes something, from a person of `role`: the account and the parsed
    /// form, or the answer to give instead (the login page, a refusal, an expired form).
    pub fn changing(
        &self,
        role: Role,
        back: &str,
        body: &[u8],
    ) -> Result<(Account, Form), PageError> {
        // The form first: a post without a valid form token is refused as such (403) whoever
        // sends it; one with a valid token from a visitor whose session ended leads to login.
        let form = self.form(body)?;
        Ok((self.require(role, back)?.clone(), form))
    }

    pub(super) fn cookie_attrs(&self) -> String {
        format!(
            "Path=/; HttpOnly; SameSite=Lax{}",
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// `Set-Cookie` of a new session, for as long as the session lasts.
    pub fn session_cookie(&self, token: &str, stay: bool) -> String {
        format!(
            "{SESSION_COOKIE}={token}; {}; Max-Age={}",
            self.cookie_attrs(),
            crate::auth::session_length(stay).whole_seconds()
        )
    }

    /// `Set-Cookie` that ends the session.
    pub fn clear_session_cookie(&self) -> String {
        format!("{SESSION_COOKIE}=; {}; Max-Age=0", self.cookie_attrs())
    }

    /// Adds the CSRF cookie to an answer when the visitor had none.
    pub fn finish(&self, mut r: Response) -> Response {
        if self.new_csrf
            && let Ok(v) = HeaderValue::from_str(&format!(
                "{CSRF_COOKIE}={}; {}",
                self.csrf_cookie,
                self.cookie_attrs()
            ))
        {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    }
}

/// Where each role lands after logging in.
pub(crate) fn space_of(role: Role) -> &'static str {
    match role {
        Role::Candidate => links::ACCOUNT,
        Role::Recruiter => links::RECRUITER_OFFERS,
        Role::Admin => links::ADMIN_REQUESTS,
    }
}
