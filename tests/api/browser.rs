//! A real browser for the page tests: headless Chromium driven through chromedriver's WebDriver
//! protocol, with axe-core (vendored in tests/assets/) injected to audit each page.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    http: reqwest::Client,
    base: String,
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group: the browsers it started go with it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub async fn start() -> (Driver, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let driver = Driver {
            http,
            base,
            child,
            _profile: profile,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--disable-quic", "--window-size=1280,1000",
                         format!("--user-data-dir={}", driver._profile.path().display())]
            }
        }}});
        let session = driver.call("POST", "/session", Some(caps)).await;
        let id = session["sessionId"].as_str().expect("session").to_string();
        (driver, id)
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        // A page still loading after a click answers "stale element": ask again, briefly.
        for _ in 0..50 {
            let v = self.try_call(method, path, body.clone()).await;
            let stale = v["value"]["error"] == "stale element reference"
                || v["value"]["error"] == "no such element" && path.ends_with("/text");
            if !stale {
                assert!(v["value"].get("error").is_none(), "webdriver {path}: {v}");
                return v.get("value").cloned().unwrap_or(v);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("webdriver {path}: the element stayed stale");
    }

    async fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let req = match method {
            "POST" => self.http.post(url).json(&body.unwrap_or(json!({}))),
            "DELETE" => self.http.delete(url),
            _ => self.http.get(url),
        };
        req.send().await.unwrap().json().await.unwrap()
    }
}

pub struct Page<'a> {
    pub d: &'a Driver,
    pub s: String,
}

impl Page<'_> {
    pub async fn go(&self, url: &str) {
        self.d
            .call(
                "POST",
                &format!("/session/{}/url", self.s),
                Some(json!({"url": url})),
            )
            .await;
    }
    pub async fn url(&self) -> String {
        self.d
            .call("GET", &format!("/session/{}/url", self.s), None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
    pub async fn find_all(&self, css: &str) -> Vec<String> {
        let v = self
            .d
            .call(
                "POST",
                &format!("/session/{}/elements", self.s),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e[ELEMENT].as_str().unwrap().to_string())
            .collect()
    }
    pub async fn find(&self, css: &str) -> String {
        // A page that is still loading has no such element yet: look again, briefly.
        for _ in 0..50 {
            if let Some(el) = self.find_all(css).await.into_iter().next() {
                return el;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = self.url().await;
        let text = self.find_all("body").await;
        let text = match text.first() {
            Some(b) => self.text(b).await,
            None => String::new(),
        };
        panic!("no element {css} on {url}:\n{text}");
    }

    pub async fn text(&self, el: &str) -> String {
        self.d
            .call(
                "GET",
                &format!("/session/{}/element/{el}/text", self.s),
                None,
            )
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
    pub async fn text_of(&self, css: &str) -> String {
        // The element of a page that was still loading goes stale: find it again.
        for _ in 0..50 {
            let el = self.find(css).await;
            let v = self
                .d
                .try_call(
                    "GET",
                    &format!("/session/{}/element/{el}/text", self.s),
                    None,
                )
                .await;
            if let Some(t) = v["value"].as_str() {
                return t.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: no stable text");
    }
    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.d
            .call(
                "POST",
                &format!("/session/{}/element/{el}/click", self.s),
                Some(json!({})),
            )
            .await;
    }
    pub async fn screenshot(&self, name: &str) {
        let b64 = self
            .d
            .call("GET", &format!("/session/{}/screenshot", self.s), None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
    pub async fn resize(&self, width: u32, height: u32) {
        self.d
            .call(
                "POST",
                &format!("/session/{}/window/rect", self.s),
                Some(json!({"width": width, "height": height})),
            )
            .await;
    }
}

impl Page<'_> {
    /// Types `text` into the element matched by `css` (cleared first).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.d
            .call(
                "POST",
                &format!("/session/{}/element/{el}/clear", self.s),
                Some(json!({})),
            )
            .await;
        self.d
            .call(
                "POST",
                &format!("/session/{}/element/{el}/value", self.s),
                Some(json!({"text": text})),
            )
            .await;
    }

    /// Waits (up to 5 s) until the page shows `needle`; answers the page's text.
    pub async fn wait_text(&self, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..50 {
            text = self.body_text().await;
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {needle:?}; it shows:\n{text}");
    }

    /// Waits (up to 5 s) until the URL contains `part`; answers it.
    pub async fn wait_url(&self, part: &str) -> String {
        let mut url = String::new();
        for _ in 0..50 {
            url = self.url().await;
            if url.contains(part) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the URL never contained {part:?}: {url}");
    }

    /// Sets the value of a date or month input (typing into them depends on the locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.script(&format!(
            "document.querySelector({}).value = {};",
            serde_json::to_string(css).unwrap(),
            serde_json::to_string(value).unwrap()
        ))
        .await;
    }

    /// Chooses the option `value` of the select `name`.
    pub async fn choose(&self, name: &str, value: &str) {
        self.click(&format!("select[name='{name}'] option[value='{value}']"))
            .await;
    }

    /// Runs a script; answers its value.
    pub async fn script(&self, script: &str) -> Value {
        self.d
            .call(
                "POST",
                &format!("/session/{}/execute/sync", self.s),
                Some(json!({"script": script, "args": []})),
            )
            .await
    }

    /// The visible text of the page.
    pub async fn body_text(&self) -> String {
        self.text_of("body").await
    }

    /// axe-core on the current page: the serious and critical findings (empty when clean).
    pub async fn axe(&self) -> Vec<String> {
        static AXE: &str = include_str!("../assets/axe-core-4.14.1/axe.min.js");
        self.script(AXE).await;
        let v = self
            .d
            .call(
                "POST",
                &format!("/session/{}/execute/async", self.s),
                Some(json!({"script": "const done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']}).then(r => done(
                      r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))));",
                    "args": []})),
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    }

    /// Asserts that axe-core finds nothing serious or critical on the current page.
    pub async fn assert_accessible(&self, what: &str) {
        let findings = self.axe().await;
        assert!(findings.is_empty(), "axe-core on {what}: {findings:#?}");
    }
}
