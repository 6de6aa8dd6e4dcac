//! Feeds. Writing RSS 2.0 and Atom 1.0 (RFC 4287) with quick-xml, here: every piece of user
//! text goes through the XML writer's escaping, and characters XML 1.0 forbids are dropped.
//! Reading a partner's feed: [`read`].

pub mod read;

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

/// One entry of a feed.
#[derive(Debug, Clone)]
pub struct FeedItem {
    /// Stable id: the offer reference.
    pub guid: String,
    /// Title.
    pub title: String,
    /// Absolute link to the offer on the portal.
    pub link: String,
    /// Publication time.
    pub published: OffsetDateTime,
    /// Last change.
    pub updated: OffsetDateTime,
    /// Plain-text summary.
    pub summary: String,
    /// Categories: (domain of the category, label).
    pub categories: Vec<(String, String)>,
}

/// The feed as a whole.
#[derive(Debug, Clone)]
pub struct FeedInfo {
    /// Title.
    pub title: String,
    /// The same search on the portal.
    pub link: String,
    /// The URL of this feed.
    pub self_link: String,
    /// Description.
    pub description: String,
    /// Time of the newest change.
    pub updated: OffsetDateTime,
}

/// Removes the characters XML 1.0 does not allow.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
        .collect()
}

fn text_element<W: io::Write>(w: &mut Writer<W>, name: &str, text: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&clean(text)))?;
    Ok(())
}

fn rfc2822(t: OffsetDateTime) -> String {
    t.format(&Rfc2822).unwrap_or_default()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn finish(w: Writer<Vec<u8>>) -> String {
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

/// Writes an RSS 2.0 feed.
pub fn rss(info: &FeedInfo, items: &[FeedItem]) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    let result: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("rss")
            .with_attribute(("version", "2.0"))
            .with_attribute(("xmlns:atom", "http://www.w3.org/2005/Atom"))
            .write_inner_content(|w| {
                w.create_element("channel").write_inner_content(|w| {
                    text_element(w, "title", &info.title)?;
                    text_element(w, "link", &info.link)?;
                    text_element(w, "description", &info.description)?;
                    text_element(w, "language", "fr")?;
                    text_element(w, "lastBuildDate", &rfc2822(info.updated))?;
                    w.create_element("atom:link")
                        .with_attribute(("href", clean(&info.self_link).as_str()))
                        .with_attribute(("rel", "self"))
                        .with_attribute(("type", "application/rss+xml"))
                        .write_empty()?;
                    for item in items {
                        w.create_element("item").write_inner_content(|w| {
                            text_element(w, "title", &item.title)?;
                            text_element(w, "link", &item.link)?;
                            w.create_element("guid")
                                .with_attribute(("isPermaLink", "false"))
                                .write_text_content(BytesText::new(&clean(&item.guid)))?;
                            text_element(w, "pubDate", &rfc2822(item.published))?;
                            text_element(w, "description", &item.summary)?;
                            for (domain, label) in &item.categories {
                                w.create_element("category")
                                    .with_attribute(("domain", clean(domain).as_str()))
                                    .write_text_content(BytesText::new(&clean(label)))?;
                            }
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::error!(error = %e, "writing RSS into memory failed");
    }
    finish(w)
}

/// Writes an Atom 1.0 feed.
pub fn atom(info: &FeedInfo, items: &[FeedItem]) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    let result: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("feed")
            .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
            .with_attribute(("xml:lang", "fr"))
            .write_inner_content(|w| {
                text_element(w, "title", &info.title)?;
                text_element(w, "subtitle", &info.description)?;
                text_element(w, "id", &info.self_link)?;
                text_element(w, "updated", &rfc3339(info.updated))?;
                w.create_element("link")
                    .with_attribute(("rel", "self"))
                    .with_attribute(("type", "application/atom+xml"))
                    .with_attribute(("href", clean(&info.self_link).as_str()))
                    .write_empty()?;
                w.create_element("link")
                    .with_attribute(("rel", "alternate"))
                    .with_attribute(("type", "text/html"))
                    .with_attribute(("href", clean(&info.link).as_str()))
                    .write_empty()?;
                w.create_element("author")
                    .write_inner_content(|w| text_element(w, "name", "offerwatch"))?;
                for item in items {
                    w.create_element("entry").write_inner_content(|w| {
                        text_element(w, "title", &item.title)?;
                        w.create_element("link")
                            .with_attribute(("rel", "alternate"))
                            .with_attribute(("href", clean(&item.link).as_str()))
                            .write_empty()?;
                        text_element(w, "id", &format!("urn:offerwatch:offer:{}", item.guid))?;
                        text_element(w, "published", &rfc3339(item.published))?;
                        text_element(w, "updated", &rfc3339(item.updated))?;
                        text_element(w, "summary", &item.summary)?;
                        for (scheme, label) in &item.categories {
                            w.create_element("category")
                                .with_attribute(("term", clean(label).as_str()))
                                .with_attribute(("scheme", clean(scheme).as_str()))
                                .write_empty()?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::error!(error = %e, "writing Atom into memory failed");
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn user_text_is_escaped_and_control_characters_dropped() {
        let info = FeedInfo {
            title: "Offres <b>&</b>".into(),
            link: "https://p.example/?q=a&contract=stage".into(),
            self_link: "https://p.example/feeds/offers.rss?q=a&contract=stage".into(),
            description: "d".into(),
            updated: datetime!(2026-11-25 10:00 UTC),
        };
        let item = FeedItem {
            guid: "S-2026-0001".into(),
            title: "Stage \"R&D\" <script>\u{1}".into(),
            link: "https://p.example/offres/S-2026-0001".into(),
            published: datetime!(2026-11-25 10:00 UTC),
            updated: datetime!(2026-11-25 10:00 UTC),
            summary: "a < b".into(),
            categories: vec![("contract".into(), "Stage".into())],
        };
        let x = rss(&info, std::slice::from_ref(&item));
        assert!(
            x.contains("Stage &quot;R&amp;D&quot; &lt;script&gt;</title>"),
            "{x}"
        );
        assert!(x.contains("?q=a&amp;contract=stage"));
        assert!(!x.contains('\u{1}'));
        let a = atom(&info, &[item]);
        assert!(a.contains("<id>urn:offerwatch:offer:S-2026-0001</id>"));
    }
}
