//! The communes of France (overseas included) and the municipal arrondissements of Paris, Lyon
//! and Marseille: INSEE code, name, department, postal codes and position, compiled in from
//! `index-schema/communes/communes.tsv` (its README gives the sources and how it is rebuilt).
//! They resolve what a candidate types as a place (`near`) and what an offer says of its town,
//! and measure great-circle distances.

use std::sync::LazyLock;

use super::referentials::fold_label;

const COMMUNES_TSV: &str = include_str!("../../index-schema/communes/communes.tsv");

/// Mean radius of the Earth (IUGG), km.
pub const EARTH_KM: f64 = 6371.0088;

/// Cities divided into arrondissements: their postal codes stand for the arrondissements.
const DIVIDED_CITIES: [&str; 3] = ["75056", "69123", "13055"];

/// One commune.
#[derive(Debug, Clone)]
pub struct Commune {
    /// INSEE code (`69383`, `2A004`).
    pub code: &'static str,
    /// Name (`Lyon 3e Arrondissement`).
    pub name: &'static str,
    /// Department code (`69`, `974`; `975`, `977`, `978` for the overseas collectivities).
    pub department: &'static str,
    /// Postal codes, comma-separated as the file writes them ([`Commune::postcodes`]).
    postcode_list: &'static str,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Population as GeoNames knows it (0: unknown), to rank homonyms.
    pub population: u32,
}

/// A point that `near` resolved to: a commune, or the mean of a postal code's communes.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// What to write back in a link (an INSEE or postal code).
    pub key: String,
    /// How to show it (`Lyon 3e Arrondissement (69003)`).
    pub label: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

impl Commune {
    /// Its postal codes.
    pub fn postcodes(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.postcode_list.split(',').filter(|p| !p.is_empty())
    }
}

/// The referential with its lookups, held for the life of the process: sorted vectors rather
/// than maps (a few MB less resident).
pub struct Communes {
    /// Sorted by INSEE code (the file is): lookups by code search it.
    list: Vec<Commune>,
    /// (postal code as a number, ordinal), sorted.
    by_postcode: Vec<(u32, u16)>,
    /// (folded name, ordinal), sorted: prefix and exact lookups by name.
    names: Vec<(Box<str>, u16)>,
}

/// A postal code as a number (five digits), none for anything else.
fn postcode_number(p: &str) -> Option<u32> {
    (p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit()))
        .then(|| p.parse().ok())
        .flatten()
}

/// The compiled-in communes.
pub fn communes() -> &'static Communes {
    static COMMUNES: LazyLock<Communes> = LazyLock::new(|| Communes::parse(COMMUNES_TSV));
    &COMMUNES
}

/// A name folded for matching: lower case, no accents, hyphens and apostrophes as spaces.
pub fn fold_name(s: &str) -> String {
    let folded = fold_label(s);
    let spaced: String = folded
        .chars()
        .map(|c| match c {
            '-' | '\'' | '’' => ' ',
            c => c,
        })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = words.join(" ");
    // "St Denis", "Ste Marie": as written in full.
    for (short, long) in [("st ", "saint "), ("ste ", "sainte ")] {
        if out.starts_with(short) {
            out = format!("{long}{}", &out[short.len()..]);
        }
        out = out.replace(&format!(" {short}"), &format!(" {long}"));
    }
    out
}

/// An INSEE code as a number (its five ASCII bytes, big-endian), as the index keeps it.
pub fn code_number(code: &str) -> u64 {
    code.bytes().take(8).fold(0, |n, b| (n << 8) | u64::from(b))
}

/// Great-circle distance in km (haversine).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_KM * a.sqrt().min(1.0).asin()
}

impl Communes {
    fn parse(text: &'static str) -> Communes {
        // Sized exactly: 35,000 communes held for the life of the process.
        let mut list = Vec::with_capacity(text.lines().count());
        for (n, line) in text.lines().enumerate() {
            let f: Vec<&'static str> = line.split('\t').collect();
            let bad = || -> ! { panic!("communes.tsv line {}: {line:?}", n + 1) };
            if f.len() != 8 {
                bad();
            }
            list.push(Commune {
                code: f[0],
                name: f[1],
                department: f[2],
                postcode_list: f[3],
                lat: f[4].parse().unwrap_or_else(|_| bad()),
                lon: f[5].parse().unwrap_or_else(|_| bad()),
                population: f[6].parse::<u32>().unwrap_or_else(|_| bad()),
            });
        }
        assert!(list.len() < usize::from(u16::MAX), "too many communes");
        assert!(
            list.is_sorted_by_key(|c| c.code),
            "communes.tsv is sorted by INSEE code"
        );
        let mut by_postcode = Vec::new();
        let mut names = Vec::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            let i = i as u16;
            if !DIVIDED_CITIES.contains(&c.code) {
                for p in c.postcodes() {
                    let n = postcode_number(p)
                        .unwrap_or_else(|| panic!("communes.tsv: postal code {p:?} of {}", c.code));
                    by_postcode.push((n, i));
                }
            }
            let name = fold_name(c.name);
            // "Lyon 3e" names "Lyon 3e Arrondissement" as well.
            if let Some(short) = name.strip_suffix(" arrondissement") {
                names.push((short.into(), i));
            }
            names.push((name.into_boxed_str(), i));
        }
        by_postcode.sort_unstable();
        by_postcode.shrink_to_fit();
        names.sort();
        names.shrink_to_fit();
        Communes {
            list,
            by_postcode,
            names,
        }
    }

    /// How many communes.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Always false: the referential is compiled in.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The commune of an ordinal.
    pub fn get(&self, ordinal: u16) -> Option<&Commune> {
        self.list.get(usize::from(ordinal))
    }

    /// The ordinal of an INSEE code.
    pub fn ordinal(&self, code: &str) -> Option<u16> {
        self.list
            .binary_search_by(|c| c.code.cmp(code))
            .ok()
            .map(|i| i as u16)
    }

    /// The ordinal of a [`code_number`] (none for 0 or an unknown code).
    pub fn ordinal_of_number(&self, mut n: u64) -> Option<u16> {
        let mut bytes = Vec::with_capacity(5);
        while n > 0 {
            bytes.push((n & 0xff) as u8);
            n >>= 8;
        }
        bytes.reverse();
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|code| self.ordinal(code))
    }

    /// The commune of an INSEE code.
    pub fn by_code(&self, code: &str) -> Option<&Commune> {
        self.ordinal(code).and_then(|o| self.get(o))
    }

    /// The communes of a postal code.
    pub fn by_postcode(&self, postcode: &str) -> impl Iterator<Item = &Commune> {
        let pairs = match postcode_number(postcode) {
            Some(n) => {
                let start = self.by_postcode.partition_point(|&(p, _)| p < n);
                let len = self.by_postcode[start..].partition_point(|&(p, _)| p == n);
                &self.by_postcode[start..start + len]
            }
            None => &[],
        };
        pairs.iter().filter_map(|&(_, o)| self.get(o))
    }

    /// A commune by its name, optionally in a department (`Saint-Pierre`, `974`): the most
    /// populated of the homonyms.
    pub fn by_name(&self, name: &str, department: Option<&str>) -> Option<&Commune> {
        let key = fold_name(name);
        if key.is_empty() {
            return None;
        }
        let start = self.names.partition_point(|(n, _)| **n < *key.as_str());
        self.names[start..]
            .iter()
            .take_while(|(n, _)| **n == *key)
            .filter_map(|&(_, o)| self.get(o))
            .filter(|c| department.is_none_or(|d| c.department == d))
            .max_by_key(|c| (c.population, std::cmp::Reverse(c.code)))
    }

    /// Reads what a person typed as a place: five digits as a postal code first (the mean of
    /// its communes), then as an INSEE code; anything else as a town name, with or without its
    /// department in parentheses (`Saint-Pierre (974)`).
    pub fn resolve(&self, text: &str) -> Option<Place> {
        let text = text.trim();
        if postcode_number(text).is_some() {
            let shared: Vec<&Commune> = self.by_postcode(text).collect();
            if let [one] = shared.as_slice() {
                return Some(Place {
                    key: text.to_string(),
                    label: format!("{} ({text})", one.name),
                    lat: one.lat,
                    lon: one.lon,
                });
            }
            if !shared.is_empty() {
                let n = shared.len() as f64;
                return Some(Place {
                    key: text.to_string(),
                    label: text.to_string(),
                    lat: shared.iter().map(|c| c.lat).sum::<f64>() / n,
                    lon: shared.iter().map(|c| c.lon).sum::<f64>() / n,
                });
            }
        }
        if let Some(c) = self.by_code(&text.to_ascii_uppercase()) {
            return Some(Self::place(c));
        }
        // As a page writes a place back: `Lyon 3e Arrondissement (69003)` (a postal code),
        // `Albigny-sur-Saône (69003)` (an INSEE code), `Lyon (69)` (a department).
        if let Some((name, inside)) = text.strip_suffix(')').and_then(|t| t.rsplit_once('('))
            && let Some(c) = self.named_by_code(name, inside)
        {
            return Some(match self.by_postcode(inside.trim()).count() {
                1 if c.postcodes().any(|p| p == inside.trim()) => self.resolve(inside)?,
                _ => Self::place(c),
            });
        }
        let (name, department) = match text.strip_suffix(')').and_then(|t| t.rsplit_once('(')) {
            Some((name, d)) => (name, Some(d.trim().to_ascii_uppercase())),
            None => (text, None),
        };
        self.by_name(name, department.as_deref()).map(Self::place)
    }

    /// The commune a text names, as an offer's town is written: a postal code (its most
    /// populated commune in `department`), an INSEE code, or a name with or without its department
    /// or code in parentheses (`Lyon 3e Arrondissement (69383)`, `Saint-Pierre (974)`).
    pub fn find(&self, text: &str, department: Option<&str>) -> Option<&Commune> {
        let text = text.trim();
        if postcode_number(text).is_some() {
            let by_postcode = self
                .by_postcode(text)
                .filter(|c| department.is_none_or(|d| c.department == d))
                .max_by_key(|c| c.population);
            if by_postcode.is_some() {
                return by_postcode;
            }
        }
        if let Some(c) = self.by_code(&text.to_ascii_uppercase()) {
            return Some(c);
        }
        match text.strip_suffix(')').and_then(|t| t.rsplit_once('(')) {
            Some((name, inside)) => self
                .named_by_code(name, inside)
                .or_else(|| self.by_name(name, Some(&inside.trim().to_ascii_uppercase()))),
            None => self.by_name(text, department),
        }
    }

    /// `Name (code)`: the commune of that postal code and name, else of that INSEE code.
    fn named_by_code(&self, name: &str, code: &str) -> Option<&Commune> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 5 {
            return None;
        }
        let folded = fold_name(name);
        let same_name = |c: &&Commune| {
            let n = fold_name(c.name);
            n == folded || n.strip_suffix(" arrondissement") == Some(folded.as_str())
        };
        self.by_postcode(&code)
            .find(same_name)
            .or_else(|| self.by_code(&code))
    }

    /// The place of one commune. Its key is the INSEE code, or `Name (code)` when that code
    /// is also a postal code (`near=69003` means Lyon 3e's postal code, not Albigny-sur-Saône).
    pub fn place(c: &Commune) -> Place {
        let key = match communes().by_postcode(c.code).next() {
            Some(_) => format!("{} ({})", c.name, c.code),
            None => c.code.to_string(),
        };
        Place {
            key,
            label: format!("{} ({})", c.name, c.department),
            lat: c.lat,
            lon: c.lon,
        }
    }

    /// The communes whose name, postal code or INSEE code begins with `prefix`: exact names
    /// first, then by population; at most `limit`.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Vec<&Commune> {
        let prefix = prefix.trim();
        let mut found: Vec<&Commune>;
        if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) {
            let postcode = |c: &Commune| c.postcodes().find(|p| p.starts_with(prefix));
            found = self
                .list
                .iter()
                .filter(|c| c.code.starts_with(prefix) || postcode(c).is_some())
                .collect();
            // By postal code (a code of arrondissements before its city), then INSEE code.
            found.sort_by_key(|c| {
                (
                    postcode(c).is_none(),
                    postcode(c),
                    DIVIDED_CITIES.contains(&c.code),
                    c.code,
                )
            });
        } else {
            let key = fold_name(prefix);
            if key.is_empty() {
                return Vec::new();
            }
            let start = self.names.partition_point(|(n, _)| **n < *key.as_str());
            found = self.names[start..]
                .iter()
                .take_while(|(n, _)| n.starts_with(&key))
                .filter_map(|&(_, o)| self.get(o))
                .collect();
            found.sort_by_key(|c| {
                (
                    fold_name(c.name) != key,
                    std::cmp::Reverse(c.population),
                    c.name,
                )
            });
        }
        found.truncate(limit);
        found
    }

    /// Per commune ordinal, its distance from `(lat, lon)` when within `km`, else infinity.
    pub fn within(&self, lat: f64, lon: f64, km: f64) -> Vec<f32> {
        // A degree of latitude is 111.2 km: communes outside the band are not measured.
        let band = km / 111.19 + 0.01;
        self.list
            .iter()
            .map(|c| {
                if (c.lat - lat).abs() > band {
                    return f32::INFINITY;
                }
                let d = distance_km(lat, lon, c.lat, c.lon);
                if d <= km { d as f32 } else { f32::INFINITY }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_referential_holds_every_kind_of_commune() {
        let c = communes();
        assert!(c.len() > 34_000, "{}", c.len());
        assert_eq!(c.by_code("69383").unwrap().name, "Lyon 3e Arrondissement");
        assert_eq!(c.by_code("2A004").unwrap().department, "2A");
        assert_eq!(c.by_code("97411").unwrap().department, "974");
        assert_eq!(c.by_code("75056").unwrap().name, "Paris");
        assert!(c.by_code("97701").is_some() && c.by_code("97801").is_some());
    }

    #[test]
    fn places_resolve_from_postcodes_codes_and_names() {
        let c = communes();
        let lyon3 = c.resolve("69003").unwrap();
        assert_eq!(lyon3.key, "69003");
        assert!(lyon3.label.starts_with("Lyon 3e"));
        assert_eq!(c.resolve("69123").unwrap().key, "69123");
        assert_eq!(c.resolve("lyon").unwrap().key, "69123");
        // 97416 is a postal code as well: the key says the name.
        assert_eq!(
            c.resolve("Saint-Pierre (974)").unwrap().key,
            "Saint-Pierre (97416)"
        );
        assert_eq!(c.resolve("st pierre (975)").unwrap().key, "97502");
        assert_eq!(c.resolve("2a004").unwrap().key, "2A004");
        // An INSEE code that is another commune's postal code is written with the name.
        let albigny = c.resolve("Albigny-sur-Saône (69003)").unwrap();
        assert_eq!(albigny.key, "Albigny-sur-Saône (69003)");
        assert_eq!(
            c.resolve(&albigny.key).unwrap().lat,
            c.by_code("69003").unwrap().lat
        );
        // A place as a page writes it back resolves to itself.
        for typed in ["69003", "Lyon", "Saint-Pierre (974)", "01260", "69123"] {
            let place = c.resolve(typed).unwrap();
            assert_eq!(c.resolve(&place.label).unwrap().key, place.key, "{typed}");
        }
        assert!(c.resolve("Atlantis").is_none());
        assert_eq!(
            c.find("Lyon 3e Arrondissement (69383)", None).unwrap().code,
            "69383"
        );
        assert_eq!(c.find("Paris 1er", Some("75")).unwrap().code, "75101");
        assert_eq!(c.find("69003", Some("69")).unwrap().code, "69383");
        assert_eq!(c.find("Saint-Pierre", Some("974")).unwrap().code, "97416");
        assert!(c.find("Lyon", Some("75")).is_none());
        // A postal code of several communes stands for the mean of their positions.
        let shared = c.resolve("01260").unwrap();
        let members: Vec<&Commune> = c.by_postcode("01260").collect();
        assert!(members.len() > 1);
        let lat = members.iter().map(|m| m.lat).sum::<f64>() / members.len() as f64;
        assert!((shared.lat - lat).abs() < 1e-9);
    }

    #[test]
    fn distances_are_great_circle_km() {
        // Paris – Lyon: 392 km as the crow flies.
        let d = distance_km(48.85341, 2.3488, 45.74846, 4.84671);
        assert!((d - 392.0).abs() < 2.0, "{d}");
        let c = communes();
        let near = c.within(45.76124, 4.85184, 20.0);
        let villeurbanne = c.ordinal("69266").unwrap();
        let grenoble = c.ordinal("38185").unwrap();
        assert!(near[usize::from(villeurbanne)] < 5.0);
        assert!(near[usize::from(grenoble)].is_infinite());
    }

    #[test]
    fn suggestions_rank_exact_names_then_population() {
        let c = communes();
        let names: Vec<&str> = c.suggest("lyon", 5).iter().map(|c| c.name).collect();
        assert_eq!(names[0], "Lyon");
        let by_postcode = c.suggest("6900", 20);
        assert!(by_postcode.iter().any(|c| c.code == "69383"));
        assert!(c.suggest("", 5).is_empty());
        assert_eq!(
            c.ordinal_of_number(code_number("2A004")),
            c.ordinal("2A004")
        );
        assert_eq!(c.ordinal_of_number(0), None);
    }
}
