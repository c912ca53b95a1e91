//! The terminal against the real stack. Over HTTP (no node needed: the apiserver authorizes an
//! exec before it looks for the pod): the BFF refuses a WebSocket from another origin and any
//! upgrade but exec and attach; a forged exec upgrade as the viewer reaches the real
//! kube-apiserver and is refused there (403, its `Status`), the developer's only in team-b; no
//! token is in a log. In Chromium: the terminal link only for those who may create pods/exec;
//! with the real node, a shell whose output appears, an end message and Reconnect, a paste
//! that reaches the shell, and a resize the shell is told of.

use std::time::{Duration, Instant};

use base64::Engine;
use devstack::Role;
use e2e::{TestStack, http_login};
use fantoccini::{
    Locator,
    actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction},
    key::Key,
};
use reqwest::{StatusCode, header};

const SHELL: &str = "command=sh&command=-c&command=exec%20sh&stdin=true&stdout=true&tty=true";

/// A WebSocket handshake for `path` of the console, as a browser sends it (the token as the
/// bearer subprotocol), from `origin`; the status and body it gets.
async fn upgrade(
    stack: &TestStack,
    path: &str,
    token: &str,
    origin: Option<&str>,
) -> anyhow::Result<(StatusCode, String)> {
    let console = &stack.description().console_url;
    let bearer = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token);
    let mut request = stack
        .http()?
        .get(format!("{console}{path}"))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
        .header(
            header::SEC_WEBSOCKET_PROTOCOL,
            format!(
                "v5.channel.k8s.io, v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.{bearer}"
            ),
        );
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    let response = request.send().await?;
    let status = response.status();
    Ok((status, response.text().await.unwrap_or_default()))
}

fn exec_path(namespace: &str, pod: &str) -> String {
    format!("/api/k8s/api/v1/namespaces/{namespace}/pods/{pod}/exec?{SHELL}")
}

async fn token_of(stack: &TestStack, role: Role) -> anyhow::Result<String> {
    let user = stack.description().require_user(role)?;
    http_login::id_token(&stack.http()?, &stack.description().console_url, &user).await
}

#[tokio::test]
async fn exec_upgrades_are_checked_by_the_bff_and_authorized_by_the_apiserver() -> anyhow::Result<()>
{
    let stack = TestStack::get().await?;
    let console = stack.description().console_url.clone();
    let (viewer, developer, admin) = (
        token_of(&stack, Role::Viewer).await?,
        token_of(&stack, Role::Developer).await?,
        token_of(&stack, Role::Admin).await?,
    );
    let missing_pod = e2e::unique("no-such-pod");

    // Another origin, or none, is refused by the BFF before anything else.
    for origin in [None, Some("https://evil.example")] {
        let (status, body) =
            upgrade(&stack, &exec_path("team-a", &missing_pod), &admin, origin).await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?}: {body}");
        let error: shared::ApiError = serde_json::from_str(&body)?;
        assert_eq!(error.code, shared::ErrorCode::Forbidden, "{body}");
    }
    // Only exec and attach upgrade.
    let (status, body) = upgrade(
        &stack,
        "/api/k8s/api/v1/namespaces/x/configmaps",
        &admin,
        Some(&console),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("exec and attach"), "{body}");

    // The viewer's forged upgrade reaches the apiserver, which refuses it: its own Status.
    let (status, body) = upgrade(
        &stack,
        &exec_path("team-a", &missing_pod),
        &viewer,
        Some(&console),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let refusal: shared::Status = serde_json::from_str(&body)?;
    assert_eq!(refusal.reason, "Forbidden", "{body}");
    assert!(
        refusal.message.contains("viewer@example.com") && refusal.message.contains("pods/exec"),
        "the apiserver's refusal names the user and pods/exec: {body}"
    );
    // The developer may exec in team-a (then the pod is looked for: 404) but not in team-b.
    let (status, body) = upgrade(
        &stack,
        &exec_path("team-b", &missing_pod),
        &developer,
        Some(&console),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("pods/exec"), "{body}");
    for token in [&developer, &admin] {
        let (status, body) = upgrade(
            &stack,
            &exec_path("team-a", &missing_pod),
            token,
            Some(&console),
        )
        .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }

    let log_dir = &stack.description().log_dir;
    for token in [&viewer, &developer, &admin] {
        e2e::assert_not_logged(log_dir, token);
    }
    // Neither is the apiserver-proxy's own ServiceAccount token, with which the shared stack's
    // proxy (as in a cluster) opened these upgrades.
    if let Some(own) = log_dir
        .parent()
        .map(|state| state.join("run/apiserver-proxy.token"))
        .filter(|file| file.is_file())
    {
        e2e::assert_not_logged(log_dir, std::fs::read_to_string(own)?.trim());
    }
    Ok(())
}

/// The first pod in `namespace` whose name starts with `prefix` and that is running.
async fn running_pod(stack: &TestStack, namespace: &str, prefix: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let names = stack.kubectl_ok(&[
            "get",
            "pods",
            "-n",
            namespace,
            "--field-selector=status.phase=Running",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])?;
        if let Some(name) = names.split_whitespace().find(|n| n.starts_with(prefix)) {
            return Ok(name.to_string());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no running pod {prefix}* in {namespace} within 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The text xterm.js shows (its DOM rows).
async fn screen(browser: &e2e::browser::Browser) -> anyhow::Result<String> {
    let text = browser
        .client
        .execute(
            "const rows = document.querySelector('[data-testid=terminal] .xterm-rows'); \
             return rows ? rows.textContent.replace(/\\u00a0/g, ' ') : '';",
            vec![],
        )
        .await?;
    Ok(text.as_str().unwrap_or_default().to_string())
}

async fn wait_for_screen(browser: &e2e::browser::Browser, text: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = screen(browser).await?;
        if shown.contains(text) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{text:?} not on the screen: {shown:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_status(browser: &e2e::browser::Browser, text: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = browser.text_of("[data-testid=terminal-status]").await?;
        if status.contains(text) {
            return Ok(status);
        }
        anyhow::ensure!(Instant::now() < deadline, "status {status:?}, not {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_line(browser: &e2e::browser::Browser, line: &str) -> anyhow::Result<()> {
    let input = browser
        .wait_for("[data-testid=terminal] textarea.xterm-helper-textarea")
        .await?;
    input
        .send_keys(&format!("{line}{}", char::from(Key::Enter)))
        .await?;
    Ok(())
}

#[tokio::test]
async fn the_admin_opens_a_shell_sees_its_output_and_reconnects() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    let pod = running_pod(&stack, "team-a", "chatty").await?;
    let browser = stack
        .browser(Role::Admin, &format!("/ns/team-a/core/v1/pods/{pod}"))
        .await?;
    browser.click("[data-testid=open-terminal]").await?;
    let status = wait_for_status(&browser, "Connected").await?;
    assert!(status.contains("v5.channel.k8s.io"), "{status}");
    // The typed line has no "hello-42" in it: only the shell's output has.
    type_line(&browser, "echo hello-$((6*7))").await?;
    wait_for_screen(&browser, "hello-42").await?;

    let command = browser
        .text_of("[data-testid=port-forward-command]")
        .await?;
    assert!(
        command.starts_with("kubectl --kubeconfig kubeconfig-")
            && command.contains(&format!("-n team-a port-forward pod/{pod} ")),
        "{command}"
    );

    type_line(&browser, "exit 3").await?;
    wait_for_status(&browser, "exit code 3").await?;
    browser.click("[data-testid=terminal-reconnect]").await?;
    wait_for_status(&browser, "Connected").await?;
    type_line(&browser, "echo again-$((40+2))").await?;
    wait_for_screen(&browser, "again-42").await?;

    browser.assert_no_console_errors().await?;
    browser.close().await
}

/// The shell's size as `stty size` reports it (rows, columns), read from the output line the
/// `n`th call makes (the typed line cannot match: it holds `$((n+0))`, not `n`).
async fn shell_size(browser: &e2e::browser::Browser, n: u32) -> anyhow::Result<(u32, u32)> {
    type_line(browser, &format!("echo size-$(({n}+0)) $(stty size) end")).await?;
    let marker = format!("size-{n} ");
    wait_for_screen(browser, &marker).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = screen(browser).await?;
        let numbers: Option<Vec<u32>> = shown.split(&marker).nth(1).and_then(|rest| {
            let (size, _) = rest.split_once(" end")?;
            size.split_whitespace().map(|n| n.parse().ok()).collect()
        });
        if let Some([rows, columns]) = numbers.as_deref() {
            return Ok((*rows, *columns));
        }
        anyhow::ensure!(Instant::now() < deadline, "no size in {shown:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_paste_reaches_the_shell_and_the_shell_follows_the_terminals_size() -> anyhow::Result<()>
{
    let stack = TestStack::with_node().await?;
    let pod = running_pod(&stack, "team-a", "chatty").await?;
    let browser = stack
        .browser(
            Role::Admin,
            &format!("/ns/team-a/core/v1/pods/{pod}/terminal"),
        )
        .await?;
    wait_for_status(&browser, "Connected").await?;

    // A paste, as the browser delivers one (a paste event with the clipboard's text), is stdin.
    browser
        .client
        .execute(
            "const area = document.querySelector('[data-testid=terminal] textarea.xterm-helper-textarea');
             const data = new DataTransfer();
             data.setData('text/plain', 'echo pasted-$((6*7))\\n');
             area.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));",
            vec![],
        )
        .await?;
    wait_for_screen(&browser, "pasted-42").await?;

    // Copy: a double click on the output selects the word, and Ctrl+Shift+C (Ctrl+C stays the
    // shell's) writes it to the clipboard. The page's clipboard is watched, not read: reading
    // needs a permission headless Chromium does not grant.
    browser
        .client
        .execute(
            "window.__copied = [];
             navigator.clipboard.writeText = (text) => { window.__copied.push(text); return Promise.resolve(); };",
            vec![],
        )
        .await?;
    let row = browser
        .wait_for_locator(Locator::XPath(
            "//*[@data-testid='terminal']//div[contains(@class,'xterm-rows')]/div[normalize-space(.)='pasted-42']",
        ))
        .await?;
    let (_, _, width, _) = row.rectangle().await?;
    let at_the_word = PointerAction::MoveToElement {
        element: row,
        duration: None,
        x: -width / 2.0 + 20.0,
        y: 0.0,
    };
    let mut double_click = MouseActions::new("mouse".into()).then(at_the_word);
    for _ in 0..2 {
        double_click = double_click
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
    }
    browser.client.perform_actions(double_click).await?;
    browser
        .wait_for("[data-testid=terminal] textarea.xterm-helper-textarea")
        .await?
        .send_keys(&format!(
            "{}{}C",
            char::from(Key::Control),
            char::from(Key::Shift)
        ))
        .await?;
    let copied = browser
        .client
        .execute("return window.__copied;", vec![])
        .await?;
    assert_eq!(copied, serde_json::json!(["pasted-42"]));

    // The terminal fills its element; a smaller window makes a smaller terminal, and the shell
    // is told (the resize channel, through both proxies and the kubelet).
    let (rows, columns) = shell_size(&browser, 1).await?;
    assert!(rows > 5 && columns > 40, "{rows}x{columns}");
    browser.client.set_window_size(900, 600).await?;
    let mut n = 2;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (now_rows, now_columns) = shell_size(&browser, n).await?;
        if now_rows < rows && now_columns < columns {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the shell still has {now_rows}x{now_columns} (was {rows}x{columns})"
        );
        n += 1;
    }
    browser.assert_no_console_errors().await?;
    browser.close().await
}

#[tokio::test]
async fn a_container_of_two_is_chosen_by_its_link() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    running_pod(&stack, "team-a", "two-containers").await?;
    let browser = stack
        .browser(
            Role::Admin,
            "/ns/team-a/core/v1/pods/two-containers/terminal/sidecar",
        )
        .await?;
    wait_for_status(&browser, "Connected").await?;
    type_line(&browser, "echo in-$((1+1))").await?;
    wait_for_screen(&browser, "in-2").await?;
    browser
        .click("nav.terminal-containers a[href$='/terminal/web']")
        .await?;
    wait_for_status(&browser, "Connected").await?;
    assert!(
        browser
            .shows("[data-testid=terminal-title]", "container web")
            .await?
    );
    browser.close().await
}

#[tokio::test]
async fn only_those_who_may_exec_get_a_terminal() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    let (team_a, team_b) = (
        running_pod(&stack, "team-a", "chatty").await?,
        running_pod(&stack, "team-b", "chatty").await?,
    );

    let viewer = stack
        .browser(Role::Viewer, &format!("/ns/team-a/core/v1/pods/{team_a}"))
        .await?;
    let why = viewer
        .wait_for("[data-testid=object-actions] [data-testid=why-hidden]")
        .await?;
    why.click().await?;
    let reasons = why.text().await?;
    assert!(reasons.contains("pods/exec in team-a"), "{reasons}");
    assert!(!viewer.exists("[data-testid=open-terminal]").await?);
    // The terminal's address itself says no, and opens nothing.
    viewer
        .open(&format!("/ns/team-a/core/v1/pods/{team_a}/terminal"))
        .await?;
    viewer.wait_for("[data-testid=terminal-refused]").await?;
    assert!(!viewer.exists("[data-testid=terminal]").await?);
    viewer.close().await?;

    let developer = stack
        .browser(
            Role::Developer,
            &format!("/ns/team-a/core/v1/pods/{team_a}"),
        )
        .await?;
    developer.wait_for("[data-testid=open-terminal]").await?;
    developer
        .open(&format!("/ns/team-b/core/v1/pods/{team_b}"))
        .await?;
    developer
        .wait_for("[data-testid=object-actions] [data-testid=why-hidden]")
        .await?;
    assert!(!developer.exists("[data-testid=open-terminal]").await?);
    developer.close().await
}
