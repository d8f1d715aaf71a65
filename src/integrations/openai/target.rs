//! Who a client talks to: provider name and server, read once from its config.

use std::any::TypeId;
use std::borrow::Cow;

use async_openai::config::{AzureConfig, Config};

use super::{AZURE_OPENAI, OPENAI};
use crate::integrations::endpoint::Endpoint;

/// Provider and server of an async-openai client.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) provider: Cow<'static, str>,
    pub(crate) endpoint: Option<Endpoint>,
}

impl Target {
    /// Reads the base URL (never the key) of `config`.
    pub(crate) fn of<C: Config + 'static>(config: &C) -> Target {
        let endpoint = Endpoint::parse(config.api_base());
        let azure = TypeId::of::<C>() == TypeId::of::<AzureConfig>()
            || endpoint.as_ref().is_some_and(|e| is_azure_host(&e.host));
        Target {
            provider: Cow::Borrowed(if azure { AZURE_OPENAI } else { OPENAI }),
            endpoint,
        }
    }
}

fn is_azure_host(host: &str) -> bool {
    host.ends_with(".openai.azure.com") || host.ends_with(".cognitiveservices.azure.com")
}

#[cfg(test)]
mod tests {
    use async_openai::config::OpenAIConfig;

    use super::*;

    #[test]
    fn provider_follows_config_type_and_host() {
        let openai = Target::of(&OpenAIConfig::new().with_api_base("https://api.openai.com/v1"));
        assert_eq!(openai.provider, OPENAI);
        assert_eq!(
            openai.endpoint,
            Some(Endpoint {
                host: "api.openai.com".into(),
                port: 443
            })
        );
        let azure = Target::of(&AzureConfig::new().with_api_base("https://gateway.internal:8443"));
        assert_eq!(azure.provider, AZURE_OPENAI);
        let azure_host = Target::of(
            &OpenAIConfig::new().with_api_base("https://res.openai.azure.com/openai/v1"),
        );
        assert_eq!(azure_host.provider, AZURE_OPENAI);
        let local = Target::of(&OpenAIConfig::new().with_api_base("http://localhost:8000/v1"));
        assert_eq!(local.provider, OPENAI);
        assert_eq!(local.endpoint.map(|e| e.port), Some(8000));
    }
}
