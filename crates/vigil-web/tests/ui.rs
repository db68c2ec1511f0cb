//! The web UI over HTTP without a browser: sign-in cookies, CSRF on
//! forms, escaping of hostile SQL, approve through the form, the queue
//! fragment, history, assets.

mod common;

use common::{client, Harness};
use vigil_approvals::{ApprovalStatus, Resolution};

/// The `name=value` of each Set-Cookie on `resp`.
fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

fn cookie_value(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
        .to_owned()
}

/// Signs in with `token` through the form; returns the Cookie header to send.
async fn sign_in(h: &Harness, token: &str) -> String {
    let page = client().get(h.url("/signin")).send().await.unwrap();
    let csrf = cookie_value(&set_cookies(&page), "vigil_csrf");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{csrf}\"")),
        "the form carries the token"
    );
    let resp = client()
        .post(h.url("/signin"))
        .header("cookie", format!("vigil_csrf={csrf}"))
        .form(&[("token", token), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/requests");
    let raw: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        raw.iter()
            .all(|c| c.contains("HttpOnly") && c.contains("SameSite=Strict")),
        "{raw:?}"
    );
    let cookies = set_cookies(&resp);
    let fresh = cookie_value(&cookies, "vigil_csrf");
    assert_ne!(fresh, csrf, "a new CSRF token with the session");
    format!(
        "vigil_session={}; vigil_csrf={fresh}",
        cookie_value(&cookies, "vigil_session")
    )
}

fn csrf_of(cookies: &str) -> String {
    cookies.split("vigil_csrf=").nth(1).unwrap().to_owned()
}

async fn page(h: &Harness, path: &str, cookies: &str) -> (u16, String) {
    let resp = client()
        .get(h.url(path))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn pages_need_a_session() {
    let h = Harness::start().await;
    let resp = client().get(h.url("/requests")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/signin");
    let frag = client().get(h.url("/requests/queue")).send().await.unwrap();
    assert_eq!(
        (
            frag.status().as_u16(),
            frag.headers()["hx-redirect"].to_str().unwrap()
        ),
        (401, "/signin")
    );
    let bad = client()
        .post(h.url("/signin"))
        .header("cookie", "vigil_csrf=x")
        .form(&[("token", "garbage"), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    assert!(bad.text().await.unwrap().contains("token refused"));
    let forged = client()
        .post(h.url("/signin"))
        .form(&[("token", h.bob().as_str()), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status().as_u16(),
        403,
        "sign-in without the CSRF cookie"
    );
}

#[tokio::test]
async fn approve_through_the_form() {
    let h = Harness::start().await;
    let req = h.create(1).await;
    let cookies = sign_in(&h, &h.bob()).await;

    let (status, queue) = page(&h, "/requests", &cookies).await;
    assert_eq!(status, 200);
    assert!(queue.contains(&format!("/requests/{}", req.id)));
    assert!(queue.contains("sse-connect=\"/api/requests/stream\""));
    let (_, fragment) = page(&h, "/requests/queue", &cookies).await;
    assert!(fragment.contains(&format!("row-{}", req.id)) && !fragment.contains("<html"));

    let (status, detail) = page(&h, &format!("/requests/{}", req.id), &cookies).await;
    assert_eq!(status, 200);
    assert!(
        !detail.contains("<script>alert(1)"),
        "hostile SQL is escaped"
    );
    assert!(
        detail.contains("&#60;script&#62;alert(1)") || detail.contains("&lt;script&gt;alert(1)"),
        "and shown"
    );
    assert!(
        detail.contains("<span class=\"kw\">DELETE</span>"),
        "highlighted"
    );
    for needle in [
        "id=\"approve\"",
        "id=\"deny\"",
        "id=\"comment\"",
        "public.orders (write)",
        "write_in_production",
        "writes in production need review",
        "review.prod_write",
        "psql",
        "alice@example.com",
        "ff00",
    ] {
        assert!(detail.contains(needle), "{needle} missing from the page");
    }

    let form = client()
        .post(h.url(&format!("/requests/{}/approve", req.id)))
        .header("cookie", &cookies)
        .form(&[("comment", "ok"), ("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 403, "a forged form is refused");
    let wait = tokio::spawn({
        let (svc, id) = (h.service.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    let csrf = csrf_of(&cookies);
    let form = client()
        .post(h.url(&format!("/requests/{}/approve", req.id)))
        .header("cookie", &cookies)
        .form(&[("comment", "ok"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 303);
    assert_eq!(wait.await.unwrap().unwrap(), Resolution::Approved);
    let (_, history) = page(&h, "/history", &cookies).await;
    assert!(history.contains(&format!("row-{}", req.id)) && history.contains("approved"));
}

#[tokio::test]
async fn the_requester_sees_why_she_cannot_decide() {
    let h = Harness::start().await;
    let req = h.create(1).await;
    let cookies = sign_in(&h, &h.alice()).await;
    let (status, detail) = page(&h, &format!("/requests/{}", req.id), &cookies).await;
    assert_eq!(status, 200);
    assert!(detail.contains("id=\"cannot-review\"") && !detail.contains("id=\"approve\""));
    let csrf = csrf_of(&cookies);
    let resp = client()
        .post(h.url(&format!("/requests/{}/approve", req.id)))
        .header("cookie", &cookies)
        .form(&[("comment", ""), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert!(resp.text().await.unwrap().contains("own request"));
    assert_eq!(
        h.service.get(&req.id).await.unwrap().status,
        ApprovalStatus::Pending
    );
}

#[tokio::test]
async fn sign_out_clears_the_session() {
    let h = Harness::start().await;
    let cookies = sign_in(&h, &h.bob()).await;
    let csrf = csrf_of(&cookies);
    let resp = client()
        .post(h.url("/signout"))
        .header("cookie", &cookies)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let cleared = set_cookies(&resp);
    assert!(
        cleared.contains(&"vigil_session=".to_owned()),
        "{cleared:?}"
    );
}

#[tokio::test]
async fn assets_are_served_from_the_binary() {
    let h = Harness::start().await;
    for (name, needle) in [
        ("htmx.min.js", "htmx"),
        ("htmx-ext-sse.min.js", "sse"),
        ("vigil.css", "pre.sql"),
    ] {
        let resp = client()
            .get(h.url(&format!("/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{name}");
        assert!(resp.text().await.unwrap().contains(needle), "{name}");
    }
    assert_eq!(
        client()
            .get(h.url("/assets/../Cargo.toml"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}
