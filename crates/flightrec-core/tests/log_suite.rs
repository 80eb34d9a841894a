//! One test binary for `flightrec_core::log`: published vectors, the tiled
//! code against a naive reference, generated negative cases, and cross-checks
//! with implementations that are not ours.

mod log_suite {
    pub mod reference;

    mod interop;
    mod mutants;
    mod tiled;
    mod vectors;
}

use log_suite::reference;
