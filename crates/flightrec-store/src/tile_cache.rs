//! A cache of full tiles, shared by the backends' proof reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const FULL_TILE_BYTES: usize = 256 * 32;

/// (tenant, tile level, tile index).
pub type TileKey = (String, u8, u64);

/// Full tiles never change, so reads may keep them: proofs then hash in
/// memory instead of reading a dozen tiles per request.
#[derive(Default)]
pub struct FullTiles {
    tiles: Mutex<HashMap<TileKey, Arc<[u8]>>>,
}

impl FullTiles {
    /// At 8 KiB a tile, at most 32 MiB.
    const CAPACITY: usize = 4096;

    pub fn get(&self, key: &TileKey) -> Option<Arc<[u8]>> {
        self.tiles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: TileKey, bytes: Arc<[u8]>) {
        let mut tiles = self.tiles.lock().unwrap_or_else(|p| p.into_inner());
        if tiles.len() >= Self::CAPACITY {
            tiles.clear(); // crude, but bounded; hot tiles come back at once
        }
        tiles.insert(key, bytes);
    }
}
