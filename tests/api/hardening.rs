//! Abuse limits and security headers: mails of anonymous forms limited per client (behind a
//! trusted proxy, per forwarded client), the honeypot, and the headers of every answer.

use serde_json::json;

use crate::helpers::*;

fn signup(n: usize) -> serde_json::Value {
    json!({"cgu": true, "first_name": "Jean", "last_name": "Zay", "email": format!("jean{n}@exemple.fr"),
           "username": format!("jzay{n}"), "password": "Un-Mot-De-Passe-2026"})
}

#[tokio::test]
async fn mails_of_anonymous_forms_are_limited_per_client_and_forwarded_clients_are_told_apart() {
    let app = spawn_app_with(0, |c| {
        c.mails_per_client_hour = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let post = |body: serde_json::Value, forwarded: &'static str| {
        let req = app
            .client
            .post(app.url("/api/v1/candidates"))
            .header("x-forwarded-for", forwarded)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    // A mistake does not count: only mails sent do.
    let r = post(json!({"cgu": true, "first_name": "Jean"}), "198.51.100.1").await;
    assert_eq!(r.status(), 422);
    for n in 0..2 {
        assert_eq!(post(signup(n), "198.51.100.1").await.status(), 201);
    }
    let r = post(signup(2), "198.51.100.1").await;
    assert!(r.headers().contains_key("retry-after"));
    let p = problem(r, 429).await;
    assert!(p["detail"].as_str().unwrap_or_default().len() > 3, "{p}");
    // Another client behind the same proxy is not refused; a spoofed hop on the left changes
    // nothing (the proxy appends the real address on the right).
    assert_eq!(post(signup(3), "198.51.100.2").await.status(), 201);
    let r = post(signup(4), "203.0.113.50, 198.51.100.1").await;
    assert_eq!(r.status(), 429);
    // Recruiter requests share the limit.
    let r = app
        .client
        .post(app.url("/api/v1/recruiters"))
        .header("x-forwarded-for", "198.51.100.1")
        .json(
            &json!({"cgu": true, "first_name": "Rose", "last_name": "Valland", "email": "rose@culture.gouv.fr",
                      "administration": "min-culture", "service_name": "Musée"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

#[tokio::test]
async fn the_honeypot_refuses_robots_and_people_never_see_it() {
    let app = spawn_app(0).await;
    let browser = app.browser();
    let page = browser.get("/compte/nouveau").await;
    assert!(page.body.contains("name=\"site_web\""));
    assert!(page.body.contains("class=\"ow-hp\""));
    let person = [
        ("civility", "M."),
        ("first_name", "Jean"),
        ("last_name", "Zay"),
        ("email", "jean@exemple.fr"),
        ("username", "jzay"),
        ("password", "Un-Mot-De-Passe-2026"),
        ("password_confirm", "Un-Mot-De-Passe-2026"),
        ("cgu", "on"),
    ];
    let mut robot = person.to_vec();
    robot.push(("site_web", "http://spam.example"));
    let r = browser
        .submit("/compte/nouveau", "/compte/nouveau", &robot)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Formulaire refusé"));
    assert!(
        app.engine
            .store()
            .account_by_login("jean@exemple.fr")
            .unwrap()
            .is_none()
    );
    let r = browser
        .submit("/compte/nouveau", "/compte/nouveau", &person)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app(3).await;
    for path in ["/", "/api/v1/offers", "/api/docs", "/connexion", "/nowhere"] {
        let r = app.get(path).await;
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        // The harness's public URL is https.
        assert!(h.contains_key("strict-transport-security"), "{path}");
        if path == "/" || path == "/api/docs" {
            let body = r.text().await.unwrap();
            assert!(!body.contains("<style"), "{path} has an inline style");
            assert!(
                !body.contains("<script>") && !body.contains(" onclick="),
                "{path} has an inline script"
            );
        }
    }
}

#[tokio::test]
async fn a_password_given_to_change_the_password_is_throttled_like_a_login() {
    let app = spawn_app(0).await;
    let anon = app.anon();
    let (s, _) = anon
        .post("/api/v1/candidates", json!({"cgu": true, "civility": "Mme", "first_name": "Rose", "last_name": "Valland", "email": "rose@exemple.fr", "username": "rvalland", "password": PASSWORD}))
        .await;
    assert_eq!(s, 201);
    let me = app.with_token(login(&app, "rose@exemple.fr", PASSWORD).await);
    let change = |current: &'static str| {
        let me = &me;
        async move {
            me.patch(
                "/api/v1/me",
                json!({"password": "Un-Autre-Mot-2027", "current_password": current}),
            )
            .await
        }
    };
    for _ in 0..offerwatch::auth::MAX_FAILED_LOGINS {
        let (s, b) = change("pas-le-bon").await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], "current_password");
    }
    // Blocked now: even the right password is refused, and so is a login of that account.
    let (s, b) = change(PASSWORD).await;
    assert_eq!(s, 429, "{b}");
    let (s, _) = anon
        .post(
            "/api/v1/auth/login",
            json!({"login": "rose@exemple.fr", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 429);
    // Changes without a password are not held back.
    let (s, b) = me.patch("/api/v1/me", json!({"first_name": "Rosa"})).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn an_offer_page_deep_in_a_search_reads_only_its_neighbours() {
    let app = spawn_app(400).await;
    let api = app.json("/api/v1/offers?per_page=100&page=3").await;
    let total = api["total"].as_u64().unwrap();
    assert!(total >= 250, "{total}");
    let (prev, this, next) = (
        api["offers"][48]["reference"].as_str().unwrap().to_string(),
        api["offers"][49]["reference"].as_str().unwrap().to_string(),
        api["offers"][50]["reference"].as_str().unwrap().to_string(),
    );
    let before = app.engine.store().offers_loaded();
    let html = app
        .get(&format!("/offres/{this}?i=250"))
        .await
        .text()
        .await
        .unwrap();
    let read = app.engine.store().offers_loaded() - before;
    assert!(
        html.contains(&format!("Offre 250/{total}")),
        "navigation shown"
    );
    assert!(html.contains(&format!("/offres/{prev}?i=249")), "previous");
    assert!(html.contains(&format!("/offres/{next}?i=251")), "next");
    // The two neighbours and the similar offers; never the 251 first ranks of the search.
    assert!(read <= 12, "{read} offers read for one page view");
}

#[tokio::test]
async fn made_up_methods_add_no_metric_series() {
    let app = spawn_app(0).await;
    for i in 0..60 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let r = app
            .client
            .request(method, app.url(&format!("/no/such/path/{i}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error());
        let method = reqwest::Method::from_bytes(format!("OTHER{i}").as_bytes()).unwrap();
        app.client
            .request(method, app.url("/api/v1/offers"))
            .send()
            .await
            .unwrap();
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .collect();
    assert!(
        !series
            .iter()
            .any(|l| l.contains("MADEUP") || l.contains("OTHER") || l.contains("/no/such")),
        "{series:#?}"
    );
    assert!(series.iter().any(|l| l.contains("method=\"other\"")));
}

#[tokio::test]
async fn private_answers_are_never_stored_and_metrics_need_the_operators_token() {
    let app = spawn_app_with(1, |c| {
        c.metrics_token = Some("a-long-operator-secret".into())
    })
    .await;
    let no_store = |r: &reqwest::Response| {
        r.headers()
            .get("cache-control")
            .is_some_and(|v| v == "no-store")
    };
    for path in ["/api/v1/offers", "/feeds/offers.rss"] {
        let r = app.get(path).await;
        assert!(!no_store(&r), "{path}: a public answer may be cached");
    }
    for path in [
        "/compte",
        "/recruteur/offres",
        "/admin/demandes",
        "/connexion",
    ] {
        let r = app.get(path).await;
        assert!(no_store(&r), "{path}");
    }
    let token = admin(&app).await;
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(no_store(&r), "the account's JSON");
    // /metrics: the operator's token, not anyone on the internet.
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("a-long-operator-secreT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("a-long-operator-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(no_store(&r));
}

#[tokio::test]
async fn a_flood_of_taken_sign_ups_is_cut_short_by_the_budget_of_anonymous_posts() {
    let app = spawn_app_with(0, |c| {
        let d = offerwatch::config::Config::default();
        c.anonymous_posts_per_minute = d.anonymous_posts_per_minute;
        c.anonymous_posts_burst = d.anonymous_posts_burst;
    })
    .await;
    let r = app
        .client
        .post(app.url("/api/v1/candidates"))
        .json(&signup(0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // 120 sign-ups of the same address from one client, 8 at a time.
    let statuses: Vec<u16> = futures_batches(&app, 120, 8).await;
    let conflicts = statuses.iter().filter(|&&s| s == 409).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(conflicts + refused, 120, "{statuses:?}");
    assert!(conflicts <= 33, "{conflicts} evaluated");
    assert!(refused >= 87, "{refused} refused");
    // The forms of the pages share the budget: a French page, with Retry-After.
    let r = app
        .client
        .post(app.url("/connexion"))
        .form(&[("login", "x"), ("password", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Trop de tentatives"));
    // Searches are not anonymous posts: they go on.
    assert_eq!(app.get("/api/v1/offers").await.status(), 200);
}

/// Sends `n` sign-ups of the taken `signup(0)`, `at_once` at a time; their statuses.
async fn futures_batches(app: &TestApp, n: usize, at_once: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for batch in 0..n.div_ceil(at_once) {
        let sends = (0..at_once.min(n - batch * at_once)).map(|_| {
            let req = app
                .client
                .post(app.url("/api/v1/candidates"))
                .json(&signup(0));
            async move {
                let r = req.send().await.unwrap();
                if r.status() == 429 {
                    assert!(r.headers().contains_key("retry-after"));
                }
                r.status().as_u16()
            }
        });
        let mut handles = Vec::new();
        for s in sends {
            handles.push(tokio::spawn(s));
        }
        for h in handles {
            statuses.push(h.await.unwrap());
        }
    }
    statuses
}

#[tokio::test]
async fn a_stolen_session_cannot_take_the_account_over() {
    let app = spawn_app(0).await;
    let admin_token = admin(&app).await;
    let other_session = login(&app, "admin@gouv.fr", PASSWORD).await;
    let me = app.with_token(admin_token.clone());
    // A new address needs the current password, for every role.
    for body in [
        json!({"email": "thief@evil.example"}),
        json!({"email": "thief@evil.example", "current_password": "Pas-Le-Bon-2026"}),
    ] {
        let (s, b) = me.patch("/api/v1/me", body).await;
        assert_eq!(s, 422, "{b}");
        assert!(
            error_fields(&b).contains(&"current_password".to_string()),
            "{b}"
        );
    }
    // With it, the address changes only through the link mailed to the new address; the
    // current address is told.
    let (s, b) = me
        .patch(
            "/api/v1/me",
            json!({"email": "ada@gouv.fr", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["email"], "admin@gouv.fr");
    assert_eq!(b["pending_email"], "ada@gouv.fr");
    assert!(
        app.mail_to("admin@gouv.fr", "ada@gouv.fr")
            .await
            .contains("a été demandé")
    );
    let link = app
        .mail_to("ada@gouv.fr", "devienne celle de votre compte")
        .await;
    assert_eq!(me.get("/api/v1/me").await.1["email"], "admin@gouv.fr");
    let (s, b) = app
        .anon()
        .post("/api/v1/me/confirm", json!({"token": token_in(&link)}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["email"], "ada@gouv.fr");
    login(&app, "ada@gouv.fr", PASSWORD).await;
    let (s, _) = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"login": "admin@gouv.fr", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 401, "the old address is no longer a login");
    // A pending change of address, then a new password: the other sessions and the pending
    // link end; the session that changed it stays.
    let (s, _) = me
        .patch(
            "/api/v1/me",
            json!({"email": "ada2@gouv.fr", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 200);
    let pending = app
        .mail_to("ada2@gouv.fr", "devienne celle de votre compte")
        .await;
    let (s, b) = me
        .patch(
            "/api/v1/me",
            json!({"password": "Un-Autre-Mot-2027", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(me.get("/api/v1/me").await.0, 200, "this session stays");
    assert_eq!(
        app.with_token(other_session).get("/api/v1/me").await.0,
        401,
        "the other session ended"
    );
    let (s, _) = app
        .anon()
        .post("/api/v1/me/confirm", json!({"token": token_in(&pending)}))
        .await;
    assert_eq!(s, 422, "the pending link ended");
    // A recovery ends every session, the one that asked included.
    let browser = app.browser();
    let r = browser
        .submit(
            "/mot-de-passe-oublie",
            "/mot-de-passe-oublie",
            &[("email", "ada@gouv.fr")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recovery = app
        .mail_to("ada@gouv.fr", "choisir un nouveau mot de passe")
        .await;
    let (s, _) = app
        .anon()
        .post(
            "/api/v1/auth/password",
            json!({"token": token_in(&recovery), "password": "Encore-Un-Mot-2028"}),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(me.get("/api/v1/me").await.0, 401);
    // Secrets at rest: once sent, the stored mails hold no live token; the outbox is the
    // service user's alone.
    let tokens = [&link, &pending, &recovery].map(|m| token_in(m));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mails = app.engine.store().mails().unwrap();
        let settled = mails
            .iter()
            .all(|m| m.state != offerwatch::store::mails::MailState::Pending);
        if settled {
            for m in &mails {
                for t in &tokens {
                    assert!(
                        !m.text.contains(t.as_str()) && !m.html.contains(t.as_str()),
                        "{}",
                        m.text
                    );
                }
            }
            break;
        }
        assert!(std::time::Instant::now() < deadline, "mails still pending");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    use std::os::unix::fs::PermissionsExt;
    let outbox = app.data_dir.join("outbox");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&outbox), 0o700);
    for e in std::fs::read_dir(&outbox).unwrap().flatten() {
        assert_eq!(mode(&e.path()), 0o600, "{}", e.path().display());
    }
}
