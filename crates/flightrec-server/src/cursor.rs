//! Opaque paging cursors.
//!
//! A cursor is base64url JSON that names the listing it belongs to, so one
//! listing's cursor is refused by another instead of paging wrongly.

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

pub fn encode<T: Serialize>(kind: &str, position: &T) -> String {
    let value = json!({"k": kind, "p": position});
    URL_SAFE_NO_PAD.encode(value.to_string())
}

pub fn decode<T: DeserializeOwned>(kind: &str, cursor: &str) -> ApiResult<T> {
    let bad = || {
        ApiError::bad_request(
            "invalid_cursor",
            "`cursor` is not one this listing issued; pass `next_cursor` from the previous page unchanged",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if value.get("k").and_then(|k| k.as_str()) != Some(kind) {
        return Err(bad());
    }
    serde_json::from_value(value["p"].clone()).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let c = encode("events", &41u64);
        assert_eq!(decode::<u64>("events", &c).unwrap(), 41);
        assert!(decode::<u64>("runs", &c).is_err());
        assert!(decode::<u64>("events", "not-a-cursor!").is_err());
        assert!(decode::<u64>("events", &encode("events", &"x")).is_err());
    }
}
