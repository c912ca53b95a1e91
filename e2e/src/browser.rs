//! Headless Chromium from Debian's packages, driven through chromedriver by fantoccini.

use std::{path::PathBuf, process::Command, time::Duration};

use anyhow::Context;
use devstack::{DemoUser, Role, StackDescription, process::Service};
use fantoccini::{
    Client, ClientBuilder, Locator, elements::Element, wd::WebDriverCompatibleCommand,
};
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Marks the browser-log line of a Content Security Policy or Trusted Types violation.
pub const POLICY_VIOLATION: &str = "[kconsole-policy-violation]";

/// Run in every document before its own scripts (CDP `Page.addScriptToEvaluateOnNewDocument`):
/// each `securitypolicyviolation` becomes a marked line in the browser log, which outlives
/// navigations and reloads, so that `close` can fail a test on any violation of any page.
const REPORT_POLICY_VIOLATIONS: &str = r#"
window.addEventListener('securitypolicyviolation', (event) => {
  console.error('[kconsole-policy-violation] ' + JSON.stringify({
    page: location.href,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    source: event.sourceFile + ':' + event.lineNumber,
  }));
}, true);
"#;

/// A browser session. Close it with `close`; if a test panics first, dropping it ends
/// chromedriver and Chromium (their whole process group) all the same.
pub struct Browser {
    pub client: Client,
    // Dropped after the client: the driver's process group holds Chromium.
    _driver: Service,
    profile: PathBuf,
    /// Where `open` goes: the console of the stack the browser was started for.
    console_url: String,
    /// Policy violations read from the browser log so far; `close` fails on any.
    violations: std::sync::Mutex<Vec<String>>,
}

/// Dex keeps one refresh token per user and client, and a login replaces the one before it: two
/// browsers of one test binary logging in as the same user at once could spend each other's token
/// between the callback and the app's hand-off (`invalid_request`, "already claimed"). Logins in
/// one binary take turns; `cargo xtask test` runs the binaries one after another.
static LOGIN_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Browser {
    pub async fn start(stack: &StackDescription) -> anyhow::Result<Browser> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let profile =
            std::env::temp_dir().join(format!("kconsole-chromium-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&profile)?;
        let driver = Service::spawn(
            "chromedriver",
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                // Chromium writes under these instead of the home directory.
                .env("XDG_CONFIG_HOME", profile.join("config"))
                .env("XDG_CACHE_HOME", profile.join("cache")),
            &profile.join("logs"),
        )?;
        let webdriver = format!("http://127.0.0.1:{port}");
        let status_client = reqwest::Client::new();
        devstack::poll::until("chromedriver", Duration::from_secs(30), || {
            let request = status_client.get(format!("{webdriver}/status"));
            async move {
                let status: Value = request.send().await?.json().await?;
                Ok(status["value"]["ready"] == true)
            }
        })
        .await?;

        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.join("user-data").display()),
            // Trust exactly the stack's server keys, not every certificate.
            format!(
                "--ignore-certificate-errors-spki-list={}",
                stack.browser_spki_pins.join(",")
            ),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {
                    "download.default_directory": profile.join("downloads"),
                    "download.prompt_for_download": false,
                },
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let Value::Object(capabilities) = capabilities else {
            anyhow::bail!("capabilities are an object");
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .context("starting a Chromium session")?;
        let browser = Browser {
            client,
            _driver: driver,
            profile,
            console_url: stack.console_url.clone(),
            violations: Default::default(),
        };
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": REPORT_POLICY_VIOLATIONS }),
            )
            .await
            .context("installing the policy violation listener")?;
        Ok(browser)
    }

    /// One Chrome DevTools Protocol command on the page (`HeapProfiler.collectGarbage`,
    /// `Memory.getDOMCounters`, …): its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> anyhow::Result<Value> {
        self.client
            .issue_cmd(ChromedriverCommand {
                path: "goog/cdp/execute",
                body: json!({ "cmd": cmd, "params": params }),
            })
            .await
            .with_context(|| format!("DevTools command {cmd}"))
    }

    /// Browser console entries of level SEVERE since the last call (chromedriver's log endpoint).
    pub async fn console_errors(&self) -> anyhow::Result<Vec<String>> {
        let entries = self
            .client
            .issue_cmd(ChromedriverCommand {
                path: "se/log",
                body: json!({"type": "browser"}),
            })
            .await?;
        let errors: Vec<String> = entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        if let Ok(mut violations) = self.violations.lock() {
            violations.extend(
                errors
                    .iter()
                    .filter(|e| e.contains(POLICY_VIOLATION))
                    .cloned(),
            );
        }
        Ok(errors)
    }

    /// Every Content Security Policy or Trusted Types violation reported so far, on any page.
    pub async fn policy_violations(&self) -> anyhow::Result<Vec<String>> {
        self.console_errors().await?;
        Ok(self
            .violations
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default())
    }

    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        self.wait_for_locator(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Polls for the element for up to 30 s. A lookup that lands in the middle of a navigation
    /// (console → /auth/login → Dex and back) fails with "aborted by navigation", which only
    /// means "not yet". On failure the error says which page the browser was on instead.
    pub async fn wait_for_locator(&self, locator: Locator<'_>) -> anyhow::Result<Element> {
        self.wait_for_locator_within(locator, Duration::from_secs(30))
            .await
    }

    async fn wait_for_locator_within(
        &self,
        locator: Locator<'_>,
        within: Duration,
    ) -> anyhow::Result<Element> {
        let deadline = std::time::Instant::now() + within;
        loop {
            match self.client.find(locator).await {
                Ok(element) => return Ok(element),
                Err(error) if std::time::Instant::now() >= deadline => {
                    let page = self.describe_page().await;
                    return Err(anyhow::Error::from(error).context(page));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Where the browser is and what it shows, for a failed test's message: the address without
    /// its query (a login's `code` and `state` travel there), the title, the start of the text,
    /// and the console's errors.
    pub async fn describe_page(&self) -> String {
        let page = self
            .client
            .execute(
                "return [location.origin + location.pathname, document.title,
                         (document.body ? document.body.innerText : '').slice(0, 600)];",
                vec![],
            )
            .await;
        let errors = self.console_errors().await.unwrap_or_default();
        match page {
            Ok(Value::Array(parts)) => {
                let part = |i: usize| parts.get(i).and_then(Value::as_str).unwrap_or_default();
                format!(
                    "the browser was at {} (title {:?}) showing {:?}; console errors: {errors:?}",
                    part(0),
                    part(1),
                    part(2)
                )
            }
            Ok(other) => format!("the browser's page could not be read: {other}"),
            Err(error) => format!("the browser's page could not be read: {error}"),
        }
    }

    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        self.on_fresh(css, |element| async move { element.text().await })
            .await
    }

    /// Finds the element that matches `css` and does `act` on it. A view may redraw the
    /// element between the lookup and the act (a virtualized list, a live Logs view): the
    /// reference is then stale, and the element is looked up again, within 30 s.
    async fn on_fresh<T, F, Fut>(&self, css: &str, act: F) -> anyhow::Result<T>
    where
        F: Fn(Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match act(self.wait_for(css).await?).await {
                Err(error)
                    if error.is_stale_element_reference()
                        && std::time::Instant::now() < deadline =>
                {
                    continue;
                }
                done => return done.with_context(|| format!("acting on {css}")),
            }
        }
    }

    /// Whether the text of the element that matches `css` (once it is there) contains `text`.
    pub async fn shows(&self, css: &str, text: &str) -> anyhow::Result<bool> {
        Ok(self.text_of(css).await?.contains(text))
    }

    /// Goes to `path` of the console.
    pub async fn open(&self, path: &str) -> anyhow::Result<()> {
        self.client
            .goto(&format!("{}{path}", self.console_url))
            .await?;
        Ok(())
    }

    /// Whether anything on the page matches `css` now (no waiting).
    pub async fn exists(&self, css: &str) -> anyhow::Result<bool> {
        Ok(!self.client.find_all(Locator::Css(css)).await?.is_empty())
    }

    /// Waits until the resource list on the page is complete and watching.
    pub async fn list_is_live(&self) -> anyhow::Result<()> {
        self.wait_for("[data-testid=list-status][data-phase=current]")
            .await?;
        Ok(())
    }

    /// Whether the resource list shows a row for the object called `name` now.
    pub async fn row_shown(&self, name: &str) -> anyhow::Result<bool> {
        self.exists(&format!("[data-testid=resource-row][data-name='{name}']"))
            .await
    }

    /// Clicks the element that matches `css`, once it is there.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.on_fresh(css, |element| async move { element.click().await })
            .await
    }

    /// Fails the test if the browser logged an error (level SEVERE) since the last look.
    pub async fn assert_no_console_errors(&self) -> anyhow::Result<()> {
        let errors = self.console_errors().await?;
        assert!(errors.is_empty(), "console errors: {errors:?}");
        Ok(())
    }

    /// Clicks the button whose text is `name`.
    pub async fn click_button(&self, name: &str) -> anyhow::Result<()> {
        self.client
            .find(Locator::XPath(&format!(
                "//button[normalize-space(.)='{name}']"
            )))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Scrolls the console's (virtualized) resource table to its last row.
    pub async fn scroll_table_to_end(&self) -> anyhow::Result<()> {
        self.client
            .execute(
                "const t = document.querySelector('.vtable'); t.scrollTop = t.scrollHeight;",
                vec![],
            )
            .await?;
        Ok(())
    }

    /// A new browser that opens `path` of the console, is sent to Dex, logs in as the demo user
    /// with `role`, and is back with its session confirmed.
    pub async fn logged_in(
        stack: &StackDescription,
        role: Role,
        path: &str,
    ) -> anyhow::Result<Browser> {
        let user = stack.require_user(role)?;
        let browser = Browser::start(stack).await?;
        let turn = LOGIN_TURN.lock().await;
        browser.open(path).await?;
        browser.log_in_at_dex(&user).await?;
        browser.wait_for("[data-testid=current-user]").await?;
        drop(turn);
        Ok(browser)
    }

    /// Marks the page now loaded, so that `same_page_load` can tell whether it was reloaded since.
    pub async fn mark_page_load(&self) -> anyhow::Result<()> {
        self.client
            .execute("window.__sameLoad = true;", vec![])
            .await?;
        Ok(())
    }

    /// Whether the page is still the one `mark_page_load` marked (no reload, no navigation away).
    pub async fn same_page_load(&self) -> anyhow::Result<bool> {
        let same = self
            .client
            .execute("return window.__sameLoad === true;", vec![])
            .await?;
        Ok(same == Value::Bool(true))
    }

    /// On Dex's login page: picks the password connector from the list and logs in as `user`.
    pub async fn log_in_at_dex(&self, user: &DemoUser) -> anyhow::Result<()> {
        // Two navigations (console → /auth/login → Dex) on a loaded 2-core runner: more time
        // than for an element of a page that is already there.
        let connector = self
            .wait_for_locator_within(
                Locator::XPath("//a[.//*[contains(normalize-space(.), 'Log in with Email')]]"),
                Duration::from_secs(60),
            )
            .await
            .context("Dex's connector list")?;
        connector.click().await?;
        self.wait_for("input#login")
            .await?
            .send_keys(&user.email)
            .await?;
        self.wait_for("input#password")
            .await?
            .send_keys(&user.password)
            .await?;
        self.wait_for("button#submit-login").await?.click().await?;
        Ok(())
    }

    /// The stored token, which must be there.
    pub async fn required_token(&self) -> anyhow::Result<String> {
        self.session_token()
            .await?
            .context("no token in sessionStorage")
    }

    pub async fn session_token(&self) -> anyhow::Result<Option<String>> {
        let value = self
            .client
            .execute("return sessionStorage.getItem('kc.id_token');", vec![])
            .await?;
        // gloo-storage keeps values as JSON strings.
        Ok(value
            .as_str()
            .and_then(|json| serde_json::from_str::<String>(json).ok()))
    }

    /// The YAML editor's text.
    pub async fn editor_text(&self) -> anyhow::Result<String> {
        let editor = self.wait_for("[data-testid=yaml-editor]").await?;
        Ok(editor.prop("value").await?.unwrap_or_default())
    }

    /// Replaces the YAML editor's text the way typing would (an input event); applies nothing.
    pub async fn type_into_editor(&self, text: &str) -> anyhow::Result<()> {
        let editor = self.wait_for("[data-testid=yaml-editor]").await?;
        self.client
            .execute(
                "const [el, text] = arguments; el.value = text; \
                 el.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![serde_json::to_value(&editor)?, json!(text)],
            )
            .await?;
        Ok(())
    }

    /// Where the browser saves downloads.
    pub fn downloads_dir(&self) -> PathBuf {
        self.profile.join("downloads")
    }

    /// Ends the session; fails when any page reported a policy violation.
    pub async fn close(self) -> anyhow::Result<()> {
        let violations = self.policy_violations().await?;
        self.client.clone().close().await?;
        anyhow::ensure!(
            violations.is_empty(),
            "Chromium reported policy violations: {violations:#?}"
        );
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A POST to one of chromedriver's own session endpoints (outside the WebDriver standard): a
/// Chrome DevTools Protocol command (`goog/cdp/execute`) or the browser log (`se/log`).
#[derive(Debug)]
struct ChromedriverCommand {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for ChromedriverCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}
