//! The portal's time zone (`OFFERWATCH_TIME_ZONE`, default `Europe/Paris`, from jiff's bundled
//! time-zone database): an end of diffusion falls at midnight local time, the daily digest at
//! its local hour, and dates are shown local. Instants stay UTC everywhere else.

use std::sync::Arc;

use jiff::tz::TimeZone;
use time::{Date, OffsetDateTime, UtcOffset};

/// The zone when none is configured.
pub const DEFAULT_ZONE: &str = "Europe/Paris";

/// Looks a zone up by its IANA name.
pub fn parse_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!("'{name}' is not an IANA time zone (e.g. Europe/Paris, America/Cayenne, Indian/Reunion, Pacific/Noumea)")
    })
}

/// The portal's time zone, with its name: read from the configuration, held by the engine and
/// handed to what shows or computes a local date (cheap to clone).
#[derive(Clone, Debug)]
pub struct Zone {
    name: Arc<str>,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone {
            name: DEFAULT_ZONE.into(),
            tz: parse_zone(DEFAULT_ZONE).unwrap_or(TimeZone::UTC),
        }
    }
}

impl Zone {
    /// The zone named `name` (IANA).
    pub fn parse(name: &str) -> Result<Zone, String> {
        Ok(Zone {
            name: name.into(),
            tz: parse_zone(name)?,
        })
    }

    /// Its IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Midnight starting `date` here.
    pub fn midnight(&self, date: Date) -> OffsetDateTime {
        midnight_in(date, &self.tz)
    }

    /// The instant `hour`:00 of `date` here.
    pub fn at_hour(&self, date: Date, hour: u8) -> OffsetDateTime {
        at_hour_in(date, hour, &self.tz)
    }

    /// `t` shown here.
    pub fn local(&self, t: OffsetDateTime) -> OffsetDateTime {
        local_in(t, &self.tz)
    }

    /// The local date at `now`.
    pub fn today(&self, now: OffsetDateTime) -> Date {
        self.local(now).date()
    }
}

fn civil(d: Date) -> jiff::civil::Date {
    jiff::civil::date(d.year() as i16, u8::from(d.month()) as i8, d.day() as i8)
}

fn instant(ts: jiff::Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ts.as_second()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The instant `hour`:00 of `date` in `tz` (a time that a daylight-saving change skips is
/// taken after the change, as clocks show it).
pub fn at_hour_in(date: Date, hour: u8, tz: &TimeZone) -> OffsetDateTime {
    let dt = civil(date).at(hour.min(23) as i8, 0, 0, 0);
    match dt.to_zoned(tz.clone()) {
        Ok(z) => instant(z.timestamp()),
        Err(_) => date.midnight().assume_utc(),
    }
}

/// Midnight starting `date` in `tz`.
pub fn midnight_in(date: Date, tz: &TimeZone) -> OffsetDateTime {
    at_hour_in(date, 0, tz)
}

/// `t` with the offset of `tz` at that instant (the same instant, shown local).
pub fn local_in(t: OffsetDateTime, tz: &TimeZone) -> OffsetDateTime {
    let seconds = jiff::Timestamp::from_second(t.unix_timestamp())
        .map(|ts| tz.to_offset(ts).seconds())
        .unwrap_or(0);
    let offset = UtcOffset::from_whole_seconds(seconds).unwrap_or(UtcOffset::UTC);
    t.to_offset(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn midnight_follows_daylight_saving_in_paris() {
        let paris = parse_zone("Europe/Paris").unwrap();
        // Winter: UTC+1; summer: UTC+2; the night of the change (29 March 2026, 02:00 → 03:00)
        // still starts at 23:00 UTC the day before.
        assert_eq!(
            midnight_in(date!(2026 - 01 - 15), &paris),
            datetime!(2026-01-14 23:00 UTC)
        );
        assert_eq!(
            midnight_in(date!(2026 - 03 - 29), &paris),
            datetime!(2026-03-28 23:00 UTC)
        );
        assert_eq!(
            midnight_in(date!(2026 - 03 - 30), &paris),
            datetime!(2026-03-29 22:00 UTC)
        );
        assert_eq!(
            midnight_in(date!(2026 - 10 - 26), &paris),
            datetime!(2026-10-25 23:00 UTC)
        );
        // 02:30 does not exist on 29 March: the digest hour 2 is 03:00 local, 01:00 UTC.
        assert_eq!(
            at_hour_in(date!(2026 - 03 - 29), 2, &paris),
            datetime!(2026-03-29 01:00 UTC)
        );
        // 7 o'clock local across the change.
        assert_eq!(
            at_hour_in(date!(2026 - 03 - 28), 7, &paris),
            datetime!(2026-03-28 06:00 UTC)
        );
        assert_eq!(
            at_hour_in(date!(2026 - 03 - 30), 7, &paris),
            datetime!(2026-03-30 05:00 UTC)
        );
        // Shown local: 23:30 UTC on 31 December is already 1 January in Paris.
        let t = local_in(datetime!(2026-12-31 23:30 UTC), &paris);
        assert_eq!(t.date(), date!(2027 - 01 - 01));
        assert_eq!(t, datetime!(2026-12-31 23:30 UTC));
    }

    #[test]
    fn overseas_zones_have_their_own_midnight() {
        // Nouméa is UTC+11 all year; Cayenne UTC−3; La Réunion UTC+4.
        let noumea = parse_zone("Pacific/Noumea").unwrap();
        let cayenne = parse_zone("America/Cayenne").unwrap();
        let reunion = parse_zone("Indian/Reunion").unwrap();
        let d = date!(2026 - 07 - 01);
        assert_eq!(midnight_in(d, &noumea), datetime!(2026-06-30 13:00 UTC));
        assert_eq!(midnight_in(d, &cayenne), datetime!(2026-07-01 03:00 UTC));
        assert_eq!(midnight_in(d, &reunion), datetime!(2026-06-30 20:00 UTC));
        // The same instant is another day there.
        let t = datetime!(2026-06-30 14:00 UTC);
        assert_eq!(local_in(t, &noumea).date(), date!(2026 - 07 - 01));
        assert_eq!(local_in(t, &cayenne).date(), date!(2026 - 06 - 30));
        assert!(
            parse_zone("Europe/Lutece")
                .unwrap_err()
                .contains("Europe/Lutece")
        );
    }
}
