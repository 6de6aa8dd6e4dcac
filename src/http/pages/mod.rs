//! The server-rendered French pages: the portal (search, offer), the candidate's space and the
//! back office. Each page answers with the status of the one error table.

pub(super) mod portal;
