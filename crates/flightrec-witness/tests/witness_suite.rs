//! One test binary for the witness: real logs built with flightrec-core,
//! a real witness on 127.0.0.1 port 0, spoken to over HTTP by the real
//! client and by raw requests.

mod witness_suite {
    pub mod support;

    mod client;
    mod durability;
    mod malformed;
    mod protocol;
}
