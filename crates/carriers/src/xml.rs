//! XML answers (Canada Post, bpost, and the SOAP services of DPD and Purolator), read
//! namespace-agnostically into a small element tree.
//!
//! Carriers change namespaces between versions and mix them inside one answer (SOAP envelopes,
//! `messages` errors), while element names stay put; matching on local names keeps an adapter
//! working across those changes. Malformed XML is a retryable [`CarrierError`], never a panic.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::CarrierError;

/// A namespace-free XML element: its local name, its text and its child elements.
#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the child `name`, or the empty string.
    pub fn text_of(&self, name: &str) -> String {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default()
    }

    /// The element at a path of child names below this one.
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// The trimmed text at a path of child names, or the empty string.
    pub fn text_at(&self, path: &[&str]) -> String {
        self.at(path)
            .map(|e| e.text.trim().to_string())
            .unwrap_or_default()
    }

    /// The first element called `name` at any depth below this one (depth first).
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }

    /// A SOAP `Fault` anywhere in the document: the `errorCode` (or `faultcode`) and the
    /// `errorMessage` (or `faultstring`) it carries.
    pub fn soap_fault(&self) -> Option<(String, String)> {
        let fault = self.find("Fault")?;
        let pick = |specific: &str, general: &str| {
            fault
                .find(specific)
                .map(|e| e.text.trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| fault.text_of(general))
        };
        Some((
            pick("errorCode", "faultcode"),
            pick("errorMessage", "faultstring"),
        ))
    }
}

fn local_name(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name).into_owned();
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_string(),
        None => name,
    }
}

/// Parses `carrier`'s XML answer into its root element, dropping namespace prefixes.
pub fn parse_xml(carrier: &str, body: &[u8]) -> Result<Element, CarrierError> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut buf = Vec::new();
    let unbalanced = || CarrierError::malformed(carrier, "unbalanced XML");
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => stack.push(Element {
                name: local_name(e.name().as_ref()),
                ..Element::default()
            }),
            Ok(Event::Empty(e)) => {
                let element = Element {
                    name: local_name(e.name().as_ref()),
                    ..Element::default()
                };
                stack
                    .last_mut()
                    .ok_or_else(unbalanced)?
                    .children
                    .push(element);
            }
            Ok(Event::Text(t)) => {
                let text = t
                    .unescape()
                    .map_err(|e| CarrierError::malformed(carrier, e))?;
                stack
                    .last_mut()
                    .ok_or_else(unbalanced)?
                    .text
                    .push_str(&text);
            }
            Ok(Event::CData(t)) => {
                let current = stack.last_mut().ok_or_else(unbalanced)?;
                current.text.push_str(&String::from_utf8_lossy(&t));
            }
            Ok(Event::End(_)) => {
                let done = stack.pop().ok_or_else(unbalanced)?;
                stack.last_mut().ok_or_else(unbalanced)?.children.push(done);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(CarrierError::malformed(carrier, e)),
        }
        buf.clear();
    }
    if stack.len() != 1 {
        return Err(CarrierError::malformed(
            carrier,
            "XML ended inside an element",
        ));
    }
    stack
        .pop()
        .and_then(|doc| doc.children.into_iter().next())
        .ok_or_else(|| CarrierError::malformed(carrier, "empty XML document"))
}

/// Escapes text for an XML element or attribute value.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_dropped_and_paths_followed() {
        let doc = parse_xml(
            "test",
            b"<s:Envelope xmlns:s=\"x\"><s:Body><r:Answer xmlns:r=\"y\"><a>1</a><a>2</a>\
              <b><c> deep </c></b><e/></r:Answer></s:Body></s:Envelope>",
        )
        .unwrap();
        assert_eq!(doc.name, "Envelope");
        let answer = doc.find("Answer").unwrap();
        assert_eq!(answer.all("a").count(), 2);
        assert_eq!(doc.text_at(&["Body", "Answer", "b", "c"]), "deep");
        assert!(answer.child("e").is_some());
        assert!(doc.soap_fault().is_none());
    }

    #[test]
    fn soap_faults_and_broken_xml() {
        let doc = parse_xml(
            "test",
            b"<Envelope><Body><Fault><faultcode>soap:Server</faultcode><faultstring>Fault occured\
              </faultstring><detail><authenticationFault><errorCode>DELICOM_ERR_AUTHENTICATION\
              </errorCode><errorMessage>check delisId</errorMessage></authenticationFault>\
              </detail></Fault></Body></Envelope>",
        )
        .unwrap();
        assert_eq!(
            doc.soap_fault(),
            Some((
                "DELICOM_ERR_AUTHENTICATION".to_string(),
                "check delisId".to_string()
            ))
        );
        for broken in [&b"<a><b>"[..], b"", b"</a>", b"<a></b>"] {
            let err = parse_xml("test", broken).unwrap_err();
            assert!(
                err.is_retryable() && err.to_string().contains("malformed"),
                "{err}"
            );
        }
    }
}
