//! Reading a partner's feed: one conditional GET of bounded size (the caller's client decides
//! which addresses it may reach), then RSS 2.0 or Atom 1.0 parsed by feed-rs into items of plain
//! text.

/// Largest feed read.
pub const MAX_FEED_BYTES: usize = 5 * 1024 * 1024;

/// What a fetch brought.
#[derive(Debug)]
pub enum Fetched {
    /// The feed, with the validators of a next conditional GET.
    Body {
        /// The feed's bytes.
        bytes: Vec<u8>,
        /// Its `ETag`.
        etag: Option<String>,
        /// Its `Last-Modified`.
        last_modified: Option<String>,
    },
    /// Unchanged since the validators given.
    NotModified,
}

/// Fetches `url` with `client`, conditionally on the validators of the last fetch; a feed over
/// [`MAX_FEED_BYTES`] is refused. The error says why in a sentence (with its causes).
pub async fn fetch(
    client: &reqwest::Client,
    url: url::Url,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched, String> {
    let shown = url.to_string();
    let mut req = client.get(url);
    if let Some(e) = etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(m) = last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
    }
    // The client's own message hides why (a refused address, a refused redirect): its causes
    // say it.
    let mut r = req
        .send()
        .await
        .map_err(|e| format!("cannot fetch {shown}: {}", crate::error::chain(&e)))?;
    if r.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !r.status().is_success() {
        return Err(format!("{shown} answered {}", r.status()));
    }
    if r.content_length()
        .is_some_and(|n| n > MAX_FEED_BYTES as u64)
    {
        return Err(format!("the feed is larger than {MAX_FEED_BYTES} bytes"));
    }
    let header = |name| {
        r.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let (etag, last_modified) = (
        header(reqwest::header::ETAG),
        header(reqwest::header::LAST_MODIFIED),
    );
    let mut bytes = Vec::new();
    while let Some(chunk) = r
        .chunk()
        .await
        .map_err(|e| format!("reading {shown}: {e}"))?
    {
        if bytes.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(format!("the feed is larger than {MAX_FEED_BYTES} bytes"));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Fetched::Body {
        bytes,
        etag,
        last_modified,
    })
}

/// One item of a feed, in plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its guid (RSS) or id (Atom).
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// Its summary, else its content (absent when empty).
    pub text: Option<String>,
    /// Its first link.
    pub link: Option<String>,
    /// Its categories: terms and labels.
    pub categories: Vec<String>,
}

/// The items of an RSS or Atom feed, in the feed's order.
pub fn parse(bytes: &[u8]) -> Result<Vec<Item>, String> {
    let feed =
        feed_rs::parser::parse(bytes).map_err(|e| format!("not an RSS or Atom feed: {e}"))?;
    Ok(feed
        .entries
        .into_iter()
        .map(|e| Item {
            title: e.title.as_ref().map(|t| plain_text(&t.content)),
            text: e
                .summary
                .as_ref()
                .map(|t| t.content.clone())
                .or_else(|| e.content.as_ref().and_then(|c| c.body.clone()))
                .map(|t| plain_text(&t))
                .filter(|t| !t.is_empty()),
            link: e.links.first().map(|l| l.href.clone()),
            categories: e
                .categories
                .iter()
                .flat_map(|c| [Some(c.term.clone()), c.label.clone()])
                .flatten()
                .collect(),
            id: e.id,
        })
        .collect())
}

/// Text without its HTML tags and with its usual entities decoded.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_as_plain_text_with_their_categories() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><guid>g-1</guid><title>Stage &lt;b&gt;RH&lt;/b&gt;</title>
            <description>&lt;p&gt;Missions&amp;nbsp;: paie&lt;/p&gt;</description>
            <link>https://example.org/1</link><category>Stage</category></item>
            <item><guid>g-2</guid><title>Vide</title><description>  </description></item>
            </channel></rss>"#;
        let items = parse(rss).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].id, "g-1");
        assert_eq!(items[0].title.as_deref(), Some("Stage RH"));
        assert_eq!(items[0].text.as_deref(), Some("Missions : paie"));
        assert_eq!(items[0].link.as_deref(), Some("https://example.org/1"));
        assert_eq!(items[0].categories, ["Stage"]);
        assert_eq!(items[1].text, None);
        assert!(
            parse(b"<html></html>")
                .unwrap_err()
                .starts_with("not an RSS or Atom feed")
        );
    }
}
