//! Where an exported item came from: its resource's `service.name` and its
//! instrumentation scope, kept on every event in `metadata.otel`.

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};

/// Where a span or log record came from: its resource's service and its scope.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub service: Option<String>,
    pub scope: Option<String>,
}

impl Origin {
    pub fn new(resource: &[KeyValue], scope: Option<&InstrumentationScope>) -> Origin {
        Origin {
            service: string_attribute(resource, "service.name"),
            scope: scope.map(|s| s.name.clone()).filter(|n| !n.is_empty()),
        }
    }
}

/// A non-empty string attribute of a key-value list.
pub fn string_attribute(kvs: &[KeyValue], key: &str) -> Option<String> {
    kvs.iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref() {
            Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
}
