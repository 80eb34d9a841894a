//! Query-string parameters, checked: unknown or repeated names are refused
//! so a typo in a filter is an error, not a silently wider result.

use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use flightrec_core::event::{format_time, parse_time, parse_window_start};
use std::collections::HashMap;

pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    pub fn parse(raw: Option<&str>) -> ApiResult<Params> {
        let mut values = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if values.insert(k.to_string(), v.to_string()).is_some() {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("query parameter `{k}` is given more than once"),
                ));
            }
        }
        Ok(Params { values })
    }

    /// A parameter's value; an empty value counts as absent.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.values.remove(name).filter(|v| !v.is_empty())
    }

    pub fn take_parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> ApiResult<Option<T>> {
        self.take(name)
            .map(|v| {
                parse(&v).map_err(|msg| {
                    ApiError::bad_request("invalid_parameter", format!("`{name}` {msg}"))
                })
            })
            .transpose()
    }

    /// `limit`, between 1 and `max`, else `default`.
    pub fn take_limit(&mut self, default: usize, max: usize) -> ApiResult<usize> {
        Ok(self
            .take_parsed("limit", |v| match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!("must be a whole number from 1 to {max}, not {v:?}")),
            })?
            .unwrap_or(default))
    }

    pub fn take_bool(&mut self, name: &str) -> ApiResult<bool> {
        Ok(self
            .take_parsed(name, |v| match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(format!("must be true or false, not {v:?}")),
            })?
            .unwrap_or(false))
    }

    /// `since`: the start of a window, as an RFC 3339 time or a span back
    /// from `now` (`24h`, `7d`; `all` for none), normalised.
    pub fn take_since(&mut self, now: DateTime<Utc>) -> ApiResult<Option<String>> {
        Ok(self
            .take_parsed("since", |v| parse_window_start(v, now))?
            .flatten()
            .map(|t| format_time(&t)))
    }

    /// `until`: the (exclusive) end of a window, normalised.
    pub fn take_until(&mut self) -> ApiResult<Option<String>> {
        Ok(self
            .take_parsed("until", parse_time)?
            .map(|t| format_time(&t)))
    }

    /// Refuses whatever parameters are left.
    pub fn finish(self) -> ApiResult<()> {
        let mut unknown: Vec<&String> = self.values.keys().collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort();
        let names: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
        Err(ApiError::bad_request(
            "invalid_parameter",
            format!("unknown query parameter {}", names.join(", ")),
        ))
    }
}
