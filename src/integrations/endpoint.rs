//! The `server.address` / `server.port` of a client, read from its base URL.

/// Host and port of the server a client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Endpoint {
    /// Host and port of `url` (`scheme://[user@]host[:port][/path]`); the
    /// port defaults to the scheme's (443 for https and grpcs, 80 for http).
    ///
    /// Credentials in the URL are skipped: they must never reach a span.
    /// `None` when the URL has no host or a port that is not a number.
    pub(crate) fn parse(url: &str) -> Option<Endpoint> {
        let url = url.trim();
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
            None => (None, url),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            // IPv6 literal: [::1]:8080
            let (host, after) = bracketed.split_once(']')?;
            (host, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return None;
        }
        let port = match port {
            Some(port) => port.parse().ok()?,
            None => match scheme.as_deref() {
                Some("http") => 80,
                _ => 443,
            },
        };
        Some(Endpoint {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Option<(String, u16)> {
        Endpoint::parse(url).map(|e| (e.host, e.port))
    }

    #[test]
    fn reads_host_and_port_with_scheme_defaults() {
        let cases = [
            ("https://api.openai.com/v1", ("api.openai.com", 443)),
            ("http://localhost:11434/v1", ("localhost", 11434)),
            ("http://127.0.0.1:8000", ("127.0.0.1", 8000)),
            ("http://vllm.internal/v1", ("vllm.internal", 80)),
            (
                "https://My-Res.OpenAI.Azure.com",
                ("my-res.openai.azure.com", 443),
            ),
            ("http://[::1]:6334", ("::1", 6334)),
            ("https://[2001:db8::1]/x", ("2001:db8::1", 443)),
            ("localhost:6334", ("localhost", 6334)),
            ("http://host:8080?x=1", ("host", 8080)),
        ];
        for (url, (host, port)) in cases {
            assert_eq!(parse(url), Some((host.to_owned(), port)), "{url}");
        }
    }

    #[test]
    fn never_keeps_credentials_and_rejects_nonsense() {
        assert_eq!(
            parse("https://user:sk-secret@proxy.example:8443/v1"),
            Some(("proxy.example".to_owned(), 8443))
        );
        assert_eq!(parse(""), None);
        assert_eq!(parse("http:///v1"), None);
        assert_eq!(parse("http://host:port/v1"), None);
        assert_eq!(parse("http://host:99999"), None);
        assert_eq!(parse("http://[::1"), None);
    }
}
