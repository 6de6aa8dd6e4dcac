//! One layout for every mail the portal sends: a greeting, paragraphs, a button, a quotation,
//! and at the bottom why the person receives it and the portal's name with its address — as
//! plain text and as HTML in the portal's sober look (the State's blue, no image, no
//! tracking). The portal's name comes from [`Links`]; nothing names the program.

use time::OffsetDateTime;

use super::{html_escape, new_mail};
use crate::links::Links;
use crate::store::mails::Mail;

enum Block {
    Para(String),
    Action(String, String),
    Quote(String),
    /// Text and HTML made by the caller (an alert's offers).
    Made(String, String),
}

/// A mail being written.
pub struct Letter {
    subject: String,
    greeting: String,
    blocks: Vec<Block>,
    why: String,
}

impl Letter {
    /// A mail with this subject, opening with `greeting` ("Bonjour Marie,").
    pub fn new(subject: impl Into<String>, greeting: impl Into<String>) -> Letter {
        Letter {
            subject: subject.into(),
            greeting: greeting.into(),
            blocks: Vec::new(),
            why: String::new(),
        }
    }

    /// A paragraph.
    pub fn para(mut self, text: impl Into<String>) -> Letter {
        self.blocks.push(Block::Para(text.into()));
        self
    }

    /// A link shown as a button (its address in full in the text part).
    pub fn action(mut self, label: impl Into<String>, url: impl Into<String>) -> Letter {
        self.blocks.push(Block::Action(label.into(), url.into()));
        self
    }

    /// Someone's words, quoted (a reason, a message).
    pub fn quote(mut self, text: impl Into<String>) -> Letter {
        self.blocks.push(Block::Quote(text.into()));
        self
    }

    /// A part made by the caller, as text and as HTML.
    pub fn made(mut self, text: String, html: String) -> Letter {
        self.blocks.push(Block::Made(text, html));
        self
    }

    /// Why the person receives the mail ("Vous recevez ce message parce que…").
    pub fn because(mut self, why: impl Into<String>) -> Letter {
        self.why = why.into();
        self
    }

    /// The text and HTML parts, signed with the portal's name and address.
    pub fn render(&self, links: &Links) -> (String, String) {
        let (site, base) = (links.site_name(), links.base());
        let mut text = format!("{}\n\n", self.greeting);
        let mut html = format!(
            "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body style=\"margin:0;padding:16px 0;background:#f6f6f6;font-family:Marianne,Arial,sans-serif;color:#161616\">\
             <div style=\"max-width:600px;margin:0 auto;background:#ffffff;border-top:4px solid #000091\">\
             <p style=\"margin:0;padding:16px 24px;border-bottom:1px solid #dddddd;font-size:14px;line-height:1.3\">\
             <strong>République française</strong><br><span style=\"color:#000091;font-size:18px;font-weight:700\">{}</span></p>\
             <div style=\"padding:8px 24px 16px;font-size:16px;line-height:1.5\"><p>{}</p>",
            html_escape(&self.subject),
            html_escape(site),
            html_escape(&self.greeting)
        );
        for b in &self.blocks {
            match b {
                Block::Para(p) => {
                    text.push_str(p);
                    text.push_str("\n\n");
                    html.push_str(&format!("<p>{}</p>", html_escape(p)));
                }
                Block::Action(label, url) => {
                    text.push_str(&format!("{label} :\n{url}\n\n"));
                    html.push_str(&format!(
                        "<p><a href=\"{}\" style=\"display:inline-block;background:#000091;color:#ffffff;padding:8px 16px;text-decoration:none\">{}</a></p>",
                        html_escape(url),
                        html_escape(label)
                    ));
                }
                Block::Quote(q) => {
                    for line in q.lines() {
                        text.push_str(&format!("> {line}\n"));
                    }
                    text.push('\n');
                    html.push_str(&format!(
                        "<blockquote style=\"margin:0 0 16px;padding:8px 16px;border-left:4px solid #000091;background:#f6f6f6;white-space:pre-line\">{}</blockquote>",
                        html_escape(q)
                    ));
                }
                Block::Made(t, h) => {
                    text.push_str(t);
                    text.push('\n');
                    html.push_str(h);
                }
            }
        }
        text.push_str(&format!("-- \n{}\n{site} — {base}\n", self.why));
        html.push_str(&format!(
            "</div><p style=\"margin:0;padding:12px 24px;border-top:1px solid #dddddd;font-size:13px;line-height:1.4;color:#666666\">{}<br><a href=\"{}\" style=\"color:#000091\">{}</a></p></div></body></html>",
            html_escape(&self.why),
            html_escape(base),
            html_escape(site)
        ));
        (text, html)
    }

    /// The mail to `to`, to queue.
    pub fn to(&self, to: &str, links: &Links, now: OffsetDateTime) -> Mail {
        let (text, html) = self.render(links);
        new_mail(to, &self.subject, text, html, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_carry_every_block_the_reason_and_the_portal_s_name() {
        let links = Links::named("https://portail.example", "Stages & apprentissage");
        let l = Letter::new("Objet <1>", "Bonjour Ana,")
            .para("Premier paragraphe.")
            .action("Ouvrir", "https://portail.example/x?a=1&b=2")
            .quote("ligne 1\nligne <2>")
            .because("Vous recevez ce message parce que vous l'avez demandé.");
        let (text, html) = l.render(&links);
        assert!(text.starts_with(
            "Bonjour Ana,\n\nPremier paragraphe.\n\nOuvrir :\nhttps://portail.example/x?a=1&b=2\n"
        ));
        assert!(text.contains("> ligne 1\n> ligne <2>\n"));
        assert!(text.ends_with("-- \nVous recevez ce message parce que vous l'avez demandé.\nStages & apprentissage — https://portail.example\n"));
        assert!(html.contains("href=\"https://portail.example/x?a=1&amp;b=2\""));
        assert!(html.contains("ligne &lt;2&gt;") && html.contains("Stages &amp; apprentissage"));
        assert!(html.contains("<title>Objet &lt;1&gt;</title>"));
        let m = l.to("ana@example.org", &links, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            (m.to.as_str(), m.subject.as_str()),
            ("ana@example.org", "Objet <1>")
        );
    }
}
