//! The domain: offers, references, referentials and search criteria. Types and validation only,
//! no I/O.

pub mod account;
pub mod communes;
pub mod documents;
pub mod files;
pub mod local_time;
pub mod offer;
pub mod referentials;
pub mod retention;
pub mod search;
pub mod validate;

pub use offer::{
    DateRule, Lifecycle, Offer, OfferFields, OfferInput, OfferState, Reference, YearMonth,
};
pub use referentials::{
    AdministrationCode, ContractType, CountryCode, DepartmentCode, DiplomaLevel, DomainCode, Facet,
    RegionCode, referentials,
};
pub use search::{SearchParams, Since, Sort};
