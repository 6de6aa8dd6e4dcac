//! The reference data compiled into the binary (`index-schema/referentials/`): the closed lists
//! of codes and French labels of the facets, and the region → department tree.
//!
//! The administrations are also kept in the store (`/admin/administrations`): a label renamed,
//! an administration added after a government reshuffle. [`install_administrations`] lays that
//! stored list over the compiled one. An added administration takes the next ordinal and keeps
//! it (additions are ordered by their stored position), so what the index and the percolator
//! hold stays valid; codes never change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use serde::{Deserialize, Serialize};

/// The seven facets of the search, in the order the API lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    /// Contract type: apprenticeship or internship.
    Contract,
    /// Diploma level prepared.
    Diploma,
    /// Domain of activity.
    Domain,
    /// Administration the service belongs to.
    Administration,
    /// INSEE region.
    Region,
    /// INSEE department.
    Department,
    /// ISO country.
    Country,
    /// Telework possible (`true`) or not (`false`); absent when the offer does not say.
    Telework,
    /// Paid (`true`) or not (`false`); absent when the offer does not say.
    Paid,
    /// The civil service's side: `etat`, `territoriale`, `hospitaliere` (from the administration).
    Versant,
}

impl Facet {
    /// How many facets there are.
    pub const COUNT: usize = 10;

    /// All facets, in API order.
    pub const ALL: [Facet; Facet::COUNT] = [
        Facet::Contract,
        Facet::Diploma,
        Facet::Domain,
        Facet::Administration,
        Facet::Region,
        Facet::Department,
        Facet::Country,
        Facet::Telework,
        Facet::Paid,
        Facet::Versant,
    ];

    /// The parameter / field name of the facet.
    pub fn name(self) -> &'static str {
        match self {
            Facet::Contract => "contract",
            Facet::Diploma => "diploma",
            Facet::Domain => "domain",
            Facet::Administration => "administration",
            Facet::Region => "region",
            Facet::Department => "department",
            Facet::Country => "country",
            Facet::Telework => "telework",
            Facet::Paid => "paid",
            Facet::Versant => "versant",
        }
    }

    /// The facet whose parameter name is `name`.
    pub fn named(name: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Position of the facet in [`Facet::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The facet's closed list of values.
    pub fn values(self) -> &'static Values {
        &referentials().facets[self.index()]
    }
}

/// The closed list of values of one facet. A value is known by its ordinal (its position in the
/// referential file), which is what the index stores.
#[derive(Debug)]
pub struct Values {
    facet: Facet,
    codes: Vec<String>,
    labels: Vec<String>,
    by_code: HashMap<String, u16>,
    /// Rank of each ordinal when sorted by folded label: the tie-break of facet counts.
    label_rank: Vec<u16>,
}

impl Values {
    fn new(facet: Facet, entries: Vec<(String, String)>) -> Values {
        let by_code = entries
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (c.clone(), i as u16))
            .collect();
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| fold_label(&entries[i].1));
        let mut label_rank = vec![0u16; entries.len()];
        for (rank, &i) in order.iter().enumerate() {
            label_rank[i] = rank as u16;
        }
        let (codes, labels) = entries.into_iter().unzip();
        Values {
            facet,
            codes,
            labels,
            by_code,
            label_rank,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when the list is empty (never, for the compiled-in referentials).
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The ordinal of a code, if it is known.
    pub fn ordinal(&self, code: &str) -> Option<u16> {
        self.by_code.get(code).copied()
    }

    /// The ordinal of a code, or an error naming the field and the allowed codes.
    pub fn parse(&self, field: &str, code: &str) -> Result<u16, crate::FieldError> {
        self.ordinal(code).ok_or_else(|| {
            crate::FieldError::with_allowed(
                field,
                format!("unknown code '{code}'"),
                self.codes.clone(),
            )
        })
    }

    /// Code of an ordinal.
    pub fn code(&self, ord: u16) -> &str {
        &self.codes[ord as usize]
    }

    /// French label of an ordinal.
    pub fn label(&self, ord: u16) -> &str {
        &self.labels[ord as usize]
    }

    /// Rank of an ordinal in label order.
    pub fn label_rank(&self, ord: u16) -> u16 {
        self.label_rank[ord as usize]
    }

    /// All codes in referential order.
    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    /// The facet these values belong to.
    pub fn facet(&self) -> Facet {
        self.facet
    }
}

/// Lower-cased, accent-free form of a label, for ordering and matching.
pub fn fold_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' | 'ì' => out.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            c => out.push(c),
        }
    }
    out
}

/// A region with its departments.
#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    /// INSEE code.
    pub code: String,
    /// French name.
    pub label: String,
    /// `metropole` or `outre-mer`.
    pub kind: String,
    /// Codes of its departments.
    pub departments: Vec<String>,
}

/// An administration (administration de rattachement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administration {
    /// Stable code.
    pub code: String,
    /// French name.
    pub label: String,
    /// `etat`, `territoriale` or `hospitaliere`.
    pub versant: String,
    /// Kind of employer.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short name.
    pub short_label: String,
    /// Other names.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The administrations' part of the store: an administration added at run time (a code the
/// compiled list lacks) or the new labels of a compiled one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAdministration {
    /// Its fields (for a compiled code, only the labels and aliases are taken).
    #[serde(flatten)]
    pub administration: Administration,
    /// Order of the additions: an added administration's ordinal follows the compiled ones in
    /// this order, so it never moves.
    pub position: u64,
    /// When it was added or last renamed (RFC 3339).
    pub updated_at: String,
}

/// A country or territory.
#[derive(Debug, Clone, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    /// French name.
    pub label: String,
    /// Continent, in French.
    pub continent: String,
    /// True for France and French territories with their own code.
    pub france: bool,
}

#[derive(Deserialize)]
struct CodeLabel {
    code: String,
    label: String,
}

#[derive(Deserialize)]
struct Department {
    code: String,
    label: String,
    region: String,
}

/// All reference data.
#[derive(Debug)]
pub struct Referentials {
    facets: Vec<Values>,
    /// Regions with their departments, in file order.
    pub regions: Vec<Region>,
    /// Administrations, in file order.
    pub administrations: Vec<Administration>,
    /// Countries, in file order.
    pub countries: Vec<Country>,
    /// Department code → region code.
    pub department_region: HashMap<String, String>,
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> T {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("compiled-in referential {name} is invalid: {e}"))
}

fn pairs(items: Vec<CodeLabel>) -> Vec<(String, String)> {
    items.into_iter().map(|c| (c.code, c.label)).collect()
}

fn load(stored: &[StoredAdministration]) -> Referentials {
    macro_rules! file {
        ($name:literal) => {
            include_str!(concat!("../../index-schema/referentials/", $name))
        };
    }
    let contracts: Vec<CodeLabel> = parse("contracts", file!("contracts.json"));
    let diplomas: Vec<CodeLabel> = parse("diplomas", file!("diplomas.json"));
    let domains: Vec<CodeLabel> = parse("domains", file!("domains.json"));
    let mut administrations: Vec<Administration> =
        parse("administrations", file!("administrations.json"));
    overlay(&mut administrations, stored);
    let regions: Vec<Region> = parse("regions", file!("regions.json"));
    let departments: Vec<Department> = parse("departments", file!("departments.json"));
    let countries: Vec<Country> = parse("countries", file!("countries.json"));

    let department_region = departments
        .iter()
        .map(|d| (d.code.clone(), d.region.clone()))
        .collect();
    let facets = vec![
        Values::new(Facet::Contract, pairs(contracts)),
        Values::new(Facet::Diploma, pairs(diplomas)),
        Values::new(Facet::Domain, pairs(domains)),
        Values::new(
            Facet::Administration,
            administrations
                .iter()
                .map(|a| (a.code.clone(), a.label.clone()))
                .collect(),
        ),
        Values::new(
            Facet::Region,
            regions
                .iter()
                .map(|r| (r.code.clone(), r.label.clone()))
                .collect(),
        ),
        Values::new(
            Facet::Department,
            departments.into_iter().map(|d| (d.code, d.label)).collect(),
        ),
        Values::new(
            Facet::Country,
            countries
                .iter()
                .map(|c| (c.code.clone(), c.label.clone()))
                .collect(),
        ),
        Values::new(
            Facet::Telework,
            pairs(parse("telework", file!("telework.json"))),
        ),
        Values::new(Facet::Paid, pairs(parse("paid", file!("paid.json")))),
        Values::new(
            Facet::Versant,
            pairs(parse("versants", file!("versants.json"))),
        ),
    ];
    Referentials {
        facets,
        regions,
        administrations,
        countries,
        department_region,
    }
}

/// Lays the stored administrations over the compiled ones: a known code takes the stored
/// labels, the others are appended in their stored order.
fn overlay(administrations: &mut Vec<Administration>, stored: &[StoredAdministration]) {
    let mut stored: Vec<&StoredAdministration> = stored.iter().collect();
    stored.sort_by_key(|s| s.position);
    for s in stored {
        let a = &s.administration;
        match administrations.iter_mut().find(|c| c.code == a.code) {
            Some(c) => {
                c.label.clone_from(&a.label);
                c.short_label.clone_from(&a.short_label);
                c.aliases.clone_from(&a.aliases);
            }
            None => administrations.push(a.clone()),
        }
    }
}

static COMPILED: LazyLock<Referentials> = LazyLock::new(|| load(&[]));

/// The referentials with the stored administrations laid over, once some were installed.
static CURRENT: AtomicPtr<Referentials> = AtomicPtr::new(std::ptr::null_mut());
static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALLING: Mutex<()> = Mutex::new(());

/// The referentials: the compiled ones, with the stored administrations laid over.
pub fn referentials() -> &'static Referentials {
    let p = CURRENT.load(Ordering::Acquire);
    if p.is_null() {
        &COMPILED
    } else {
        // SAFETY: every pointer stored in CURRENT comes from `Box::leak` and is never freed, so
        // it stays valid for the rest of the process.
        unsafe { &*p }
    }
}

/// Lays `stored` over the compiled administrations for the whole process, from now on; true
/// when that changed something. The earlier lists stay readable by whoever holds them (a
/// change is an administrator's act, a few a year: each leaks a few tens of kilobytes).
pub fn install_administrations(stored: &[StoredAdministration]) -> bool {
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    let next = load(stored);
    let current = referentials();
    if next.administrations == current.administrations {
        return false;
    }
    if let Some(gone) = current
        .administrations
        .iter()
        .zip(&next.administrations)
        .position(|(a, b)| a.code != b.code)
        .or((next.administrations.len() < current.administrations.len())
            .then_some(next.administrations.len()))
    {
        // Ordinals only grow: an index holding the old ones would read them as others.
        tracing::error!(
            ordinal = gone,
            "the stored administrations would move an ordinal: kept the list as it was"
        );
        return false;
    }
    CURRENT.store(Box::leak(Box::new(next)), Ordering::Release);
    GENERATION.fetch_add(1, Ordering::AcqRel);
    true
}

/// How many times the administrations changed in this process (caches of what the
/// referentials give, such as the OpenAPI document, compare it).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// A digest of each facet's codes in ordinal order: an index built with other ordinals is
/// rebuilt, one built before an administration was added is still good (its digest is a
/// prefix's).
pub fn codes_digest(facet: Facet, len: usize) -> u64 {
    // FNV-1a: stable from build to build, unlike the standard library's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for code in facet.values().codes().iter().take(len) {
        for b in code.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

impl Referentials {
    /// The region a department belongs to.
    pub fn region_of(&self, department: &str) -> Option<&str> {
        self.department_region.get(department).map(String::as_str)
    }

    /// `etat`, `territoriale` or `hospitaliere`: the side of the civil service of an
    /// administration (`etat` for a code it does not know).
    pub fn versant_of(&self, administration: &str) -> &'static str {
        self.administration(administration)
            .map_or("etat", |a| match a.versant.as_str() {
                "territoriale" => "territoriale",
                "hospitaliere" => "hospitaliere",
                _ => "etat",
            })
    }

    /// The administration with this code.
    pub fn administration(&self, code: &str) -> Option<&Administration> {
        self.administrations.iter().find(|a| a.code == code)
    }

    /// The values of one facet in this version of the referentials.
    pub fn values(&self, facet: Facet) -> &Values {
        &self.facets[facet.index()]
    }

    /// True for a code of the compiled list (whose code and versant never change).
    pub fn is_compiled_administration(code: &str) -> bool {
        COMPILED.administration(code).is_some()
    }
}

/// A typed code of one facet: an ordinal in its referential, shown and stored as its code.
macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $facet:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u16);

        impl $name {
            /// The facet this code belongs to.
            pub const FACET: Facet = $facet;

            /// Parses a code, naming `field` and the allowed codes on error.
            pub fn parse(field: &str, code: &str) -> Result<Self, crate::FieldError> {
                Self::FACET.values().parse(field, code).map($name)
            }

            /// The value with this ordinal.
            pub fn from_ordinal(ord: u16) -> Option<Self> {
                ((ord as usize) < Self::FACET.values().len()).then_some($name(ord))
            }

            /// Position in the referential.
            pub fn ordinal(self) -> u16 {
                self.0
            }

            /// The stable code.
            pub fn code(self) -> &'static str {
                Self::FACET.values().code(self.0)
            }

            /// The French label.
            pub fn label(self) -> &'static str {
                Self::FACET.values().label(self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(Self::FACET.name(), &s).map_err(|e| serde::de::Error::custom(e.message))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_type!(
    /// `apprentissage` or `stage`.
    ContractType,
    Facet::Contract
);
code_type!(
    /// A diploma level, `niveau-3` … `niveau-8`.
    DiplomaLevel,
    Facet::Diploma
);
code_type!(
    /// A domain of activity.
    DomainCode,
    Facet::Domain
);
code_type!(
    /// An administration de rattachement.
    AdministrationCode,
    Facet::Administration
);
code_type!(
    /// An INSEE region code.
    RegionCode,
    Facet::Region
);
code_type!(
    /// An INSEE department code.
    DepartmentCode,
    Facet::Department
);
code_type!(
    /// An ISO 3166-1 alpha-2 country code.
    CountryCode,
    Facet::Country
);

impl ContractType {
    /// True for an internship (`stage`).
    pub fn is_internship(self) -> bool {
        self.code() == "stage"
    }

    /// The letter that starts references of this contract type.
    pub fn reference_prefix(self) -> char {
        if self.is_internship() { 'S' } else { 'A' }
    }
}

impl CountryCode {
    /// True for France.
    pub fn is_france(self) -> bool {
        self.code() == "FR"
    }
}

impl DepartmentCode {
    /// The region this department belongs to.
    pub fn region(self) -> Option<RegionCode> {
        let region = referentials().region_of(self.code())?;
        RegionCode::parse("region", region).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referentials_load_with_expected_sizes() {
        assert_eq!(Facet::Contract.values().len(), 2);
        assert_eq!(Facet::Diploma.values().len(), 6);
        assert_eq!(Facet::Domain.values().len(), 29);
        assert_eq!(Facet::Administration.values().len(), 52);
        assert_eq!(Facet::Region.values().len(), 18);
        assert_eq!(Facet::Department.values().len(), 101);
        assert_eq!(Facet::Country.values().len(), 249);
    }

    #[test]
    fn unknown_code_lists_allowed_values() {
        let e = DomainCode::parse("domain", "numerik").unwrap_err();
        assert_eq!(e.field, "domain");
        assert!(e.message.contains("numerik"));
        assert!(e.allowed.iter().any(|c| c == "numerique"));
    }

    #[test]
    fn department_knows_its_region() {
        let paris = DepartmentCode::parse("department", "75").unwrap();
        assert_eq!(paris.region().unwrap().code(), "11");
        assert_eq!(fold_label("Île-de-France"), "ile-de-france");
    }
}
