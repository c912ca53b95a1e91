//! One terminal session: a WebSocket to the BFF's exec route, opened with the channel protocols
//! and the tab's token as the bearer subprotocol (never in the URL), speaking `channel`'s frames.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, prelude::*};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::channel::{self, Ended, Incoming};
use crate::api::request::CLUSTER_PREFIX;

/// What happens to a session, in order: opened (with the protocol the apiserver chose), output,
/// perhaps the command's end, then closed.
pub enum Event {
    Opened(String),
    Output(Vec<u8>),
    Ended(Ended),
    Closed { code: u16, reason: String },
}

pub struct Connection {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Connection {
    /// Opens a shell in the pod's `container` (None: its default one) as the user of `token`.
    pub fn open(
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        token: &str,
        on_event: impl Fn(Event) + 'static,
    ) -> Result<Connection, String> {
        let location = leptos::prelude::window().location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        let host = location
            .host()
            .map_err(|_| "The page has no host.".to_string())?;
        let encode = crate::kube::resource_type::encode;
        let url = format!(
            "{scheme}://{host}{CLUSTER_PREFIX}/api/v1/namespaces/{}/pods/{}/exec?{}",
            encode(namespace),
            encode(pod),
            channel::exec_query(container)
        );
        let encoded = leptos::prelude::window()
            .btoa(token)
            .map_err(|_| "The session's token is not text.".to_string())?;
        let protocols = js_sys::Array::new();
        for protocol in channel::PROTOCOLS {
            protocols.push(&JsValue::from_str(protocol));
        }
        protocols.push(&JsValue::from_str(&channel::bearer_protocol(&encoded)));
        let socket = WebSocket::new_with_str_sequence(&url, &protocols)
            .map_err(|_| "The browser refused to open the terminal's connection.".to_string())?;
        socket.set_binary_type(BinaryType::Arraybuffer);

        let on_event = std::rc::Rc::new(on_event);
        let on_open = {
            let (socket, on_event) = (socket.clone(), on_event.clone());
            Closure::<dyn FnMut()>::new(move || on_event(Event::Opened(socket.protocol())))
        };
        let on_message = {
            let on_event = on_event.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
                let Some(buffer) = message.data().dyn_ref::<ArrayBuffer>().cloned() else {
                    return;
                };
                let bytes = Uint8Array::new(&buffer).to_vec();
                match channel::incoming(&bytes) {
                    Incoming::Output(data) => on_event(Event::Output(data.to_vec())),
                    Incoming::Ended(ended) => on_event(Event::Ended(ended)),
                    Incoming::Other => {}
                }
            })
        };
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |close: CloseEvent| {
            on_event(Event::Closed {
                code: close.code(),
                reason: close.reason(),
            })
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Connection {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    pub fn send(&self, frame: &[u8]) {
        if self.socket.ready_state() == WebSocket::OPEN {
            let _ = self.socket.send_with_u8_array(frame);
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}
