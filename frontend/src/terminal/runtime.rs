//! A terminal on the page: the xterm.js instance in its element, sized to it, and the session
//! it shows, which can end and be opened again ("Reconnect") in the same terminal.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use js_sys::Uint8Array;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, prelude::*};
use web_sys::{HtmlElement, KeyboardEvent, ResizeObserver};

use super::{
    channel,
    connection::{Connection, Event},
    styles::{self, TerminalStyles, document_override},
    xterm::{Disposable, Fit, Terminal},
};
use crate::session;

/// Where a terminal opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub pod: String,
    pub container: Option<String>,
}

/// What the terminal's status line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Loading,
    Connecting,
    /// With the protocol the apiserver chose.
    Connected(String),
    /// The session ended: why, in words.
    Ended(String),
    /// No session could be opened.
    Failed(String),
}

pub struct Runtime {
    terminal: Terminal,
    target: Target,
    status: RwSignal<Status>,
    connection: Rc<RefCell<Option<Connection>>>,
    resize_observer: ResizeObserver,
    listeners: Vec<Disposable>,
    _styles: TerminalStyles,
    _on_data: Closure<dyn FnMut(String)>,
    _on_resize: Closure<dyn FnMut(JsValue)>,
    _on_key: Closure<dyn FnMut(KeyboardEvent) -> bool>,
    _on_element_resize: Closure<dyn FnMut()>,
}

impl Runtime {
    /// Opens a terminal in `host` (xterm.js loaded) and its first session.
    pub fn start(
        host: &HtmlElement,
        target: Target,
        status: RwSignal<Status>,
    ) -> Result<Runtime, String> {
        let failed = |_| "The terminal could not be set up in the page.".to_string();
        // Before `open`, which creates xterm's style elements.
        let styles = TerminalStyles::watch(host).map_err(failed)?;
        let terminal = Terminal::new(&super::xterm::options(&document_override()));
        let fit = Fit::new();
        terminal.load_addon(&fit);
        styles::while_opening(|| terminal.open(host));
        fit.fit();

        let connection: Rc<RefCell<Option<Connection>>> = Rc::default();
        let on_data = {
            let connection = connection.clone();
            Closure::<dyn FnMut(String)>::new(move |data: String| {
                if let Some(connection) = connection.borrow().as_ref() {
                    connection.send(&channel::stdin(data.as_bytes()));
                }
            })
        };
        let on_resize = {
            let (connection, terminal) = (connection.clone(), terminal.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |_| send_size(&connection, &terminal))
        };
        let on_key = {
            let terminal = terminal.clone();
            Closure::<dyn FnMut(KeyboardEvent) -> bool>::new(move |event: KeyboardEvent| {
                copy_and_paste_keys(&terminal, &event)
            })
        };
        let listeners = vec![terminal.on_data(&on_data), terminal.on_resize(&on_resize)];
        terminal.attach_custom_key_event_handler(&on_key);
        // The terminal follows its element's size (the window, the layout); xterm then reports
        // its new size, which goes to the process.
        let on_element_resize = Closure::<dyn FnMut()>::new(move || fit.fit());
        let resize_observer =
            ResizeObserver::new(on_element_resize.as_ref().unchecked_ref()).map_err(failed)?;
        resize_observer.observe(host);

        let runtime = Runtime {
            terminal,
            target,
            status,
            connection,
            resize_observer,
            listeners,
            _styles: styles,
            _on_data: on_data,
            _on_resize: on_resize,
            _on_key: on_key,
            _on_element_resize: on_element_resize,
        };
        runtime.connect();
        Ok(runtime)
    }

    /// A new session in the same terminal, cleared; the previous one, if any, is closed.
    pub fn connect(&self) {
        self.connection.borrow_mut().take();
        self.terminal.reset();
        let Some(token) = session::stored_token() else {
            self.status.set(Status::Failed(
                "You are not logged in (any more): reload the page to log in.".into(),
            ));
            return;
        };
        self.status.set(Status::Connecting);
        let opened = Rc::new(Cell::new(false));
        let ended = Rc::new(RefCell::new(None));
        let (terminal, status, connection) =
            (self.terminal.clone(), self.status, self.connection.clone());
        let Target {
            namespace,
            pod,
            container,
        } = &self.target;
        let opening = Connection::open(
            namespace,
            pod,
            container.as_deref(),
            &token,
            move |event| match event {
                Event::Opened(protocol) => {
                    opened.set(true);
                    status.set(Status::Connected(protocol));
                    send_size(&connection, &terminal);
                    terminal.focus();
                }
                Event::Output(data) => terminal.write_bytes(&Uint8Array::from(data.as_slice())),
                Event::Ended(end) => *ended.borrow_mut() = Some(end),
                Event::Closed { code, reason } => {
                    status.set(match ended.borrow_mut().take() {
                        Some(end) => Status::Ended(end.describe()),
                        None if !opened.get() => Status::Failed(
                            "The terminal could not be opened: the pod may not be running, the \
                             container may have no shell, or your session may have ended."
                                .into(),
                        ),
                        None if reason.is_empty() => {
                            Status::Ended(format!("The connection closed (code {code})."))
                        }
                        None => Status::Ended(format!("The connection closed: {reason}")),
                    });
                }
            },
        );
        match opening {
            Ok(opened) => *self.connection.borrow_mut() = Some(opened),
            Err(message) => self.status.set(Status::Failed(message)),
        }
    }
}

fn send_size(connection: &Rc<RefCell<Option<Connection>>>, terminal: &Terminal) {
    if let Some(connection) = connection.borrow().as_ref() {
        connection.send(&channel::resize(terminal.cols(), terminal.rows()));
    }
}

/// Ctrl+Shift+C copies the selection (Ctrl+C stays the shell's interrupt); Ctrl+Shift+V is left
/// to the browser, whose paste xterm.js takes in. Returns whether xterm.js handles the key.
fn copy_and_paste_keys(terminal: &Terminal, event: &KeyboardEvent) -> bool {
    if !(event.ctrl_key() && event.shift_key()) {
        return true;
    }
    match event.key().to_ascii_lowercase().as_str() {
        "c" => {
            if event.type_() == "keydown" {
                let selection = terminal.get_selection();
                if !selection.is_empty() {
                    let _ = window().navigator().clipboard().write_text(&selection);
                }
            }
            event.prevent_default();
            false
        }
        "v" => false,
        _ => true,
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.resize_observer.disconnect();
        self.connection.borrow_mut().take();
        for listener in &self.listeners {
            listener.dispose();
        }
        self.terminal.dispose();
    }
}
