//! A log grown in memory with flightrec-core, and a witness served on a
//! real listener that tests can stop and start again on its data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use flightrec_core::clock::FixedClock;
use flightrec_core::log::{
    Checkpoint, Hash, MemoryTiles, RightEdge, Signer, Verifier, consistency_proof, leaf_hash,
    sign_checkpoint,
};
use flightrec_witness::{Witness, WitnessClient, WitnessConfig, serve};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The time every test witness cosigns at.
pub const NOW: i64 = 1_700_000_000;

/// A log whose tree lives in memory: the sequencer's right edge, its tiles,
/// and the log's signing key.
#[derive(Clone)]
pub struct TestLog {
    signer: Arc<Signer>,
    edge: RightEdge,
    tiles: MemoryTiles,
    /// Part of every leaf appended from now on: two logs with different
    /// branches share leaves up to the fork and differ after it.
    branch: String,
}

impl TestLog {
    /// An empty log named `origin`, signed by a key made from `seed`.
    pub fn new(origin: &str, seed: u8) -> TestLog {
        TestLog {
            signer: Arc::new(Signer::from_seed(origin, [seed; 32]).unwrap()),
            edge: RightEdge::empty(),
            tiles: MemoryTiles::new(),
            branch: "main".to_owned(),
        }
    }

    /// A copy of this log, same key and same tree so far, whose later
    /// leaves differ from this one's: a split view.
    pub fn fork(&self, branch: &str) -> TestLog {
        let mut fork = self.clone();
        fork.branch = branch.to_owned();
        fork
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    pub fn root(&self) -> Hash {
        self.edge.root()
    }

    /// Appends leaves until the tree has `size` of them.
    pub fn grow_to(&mut self, size: u64) -> &mut TestLog {
        while self.edge.size() < size {
            let n = self.edge.size();
            self.edge
                .push(leaf_hash(format!("{} entry {n}", self.branch).as_bytes()));
        }
        self.tiles.apply(&self.edge);
        self.edge.clear_dirty();
        self
    }

    /// The signed checkpoint of the tree as it stands.
    pub fn checkpoint(&self) -> String {
        let checkpoint = Checkpoint::new(self.origin(), self.size(), self.root()).unwrap();
        sign_checkpoint(&checkpoint, &self.signer).unwrap()
    }

    /// The consistency proof from `old_size` to the current size.
    pub fn proof_from(&self, old_size: u64) -> Vec<Hash> {
        consistency_proof(&self.tiles, old_size, self.size())
            .unwrap()
            .hashes
    }

    /// The add-checkpoint request body from `old_size` to now.
    pub fn request_from(&self, old_size: u64) -> String {
        flightrec_witness::add_checkpoint::AddCheckpointRequest::encode(
            old_size,
            &self.proof_from(old_size),
            &self.checkpoint(),
        )
    }
}

/// A witness serving on 127.0.0.1, port 0.
pub struct Running {
    pub url: String,
    pub witness: Arc<Witness>,
    pub data_dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Opens a witness on `data_dir` following `logs`, cosigning at [`NOW`],
/// and serves it.
pub async fn start(data_dir: &Path, logs: &[&TestLog]) -> Running {
    let config = WitnessConfig {
        name: Some("witness.example/w1".to_owned()),
        ..WitnessConfig::new(data_dir, logs.iter().map(|log| log.verifier()).collect())
    };
    let witness = open(config).unwrap();
    start_with(data_dir, witness).await
}

/// Opens a witness with the test clock.
pub fn open(config: WitnessConfig) -> Result<Witness, flightrec_witness::Error> {
    let clock = FixedClock(DateTime::from_timestamp(NOW, 0).unwrap());
    Witness::open_with_clock(config, Arc::new(clock))
}

pub async fn start_with(data_dir: &Path, witness: Witness) -> Running {
    let witness = Arc::new(witness);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve(listener, witness.clone(), async move {
        let _ = stopped.await;
    }));
    Running {
        url,
        witness,
        data_dir: data_dir.to_owned(),
        stop,
        task,
    }
}

impl Running {
    /// A client for this witness.
    pub fn client(&self) -> WitnessClient {
        WitnessClient::new(&self.url, self.witness.verifier()).unwrap()
    }

    /// Stops serving and closes the witness, releasing its data directory.
    pub async fn stop(self) -> PathBuf {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the witness stops within 10 s")
            .unwrap()
            .unwrap();
        let witness = Arc::try_unwrap(self.witness).expect("no one else holds the witness");
        drop(witness);
        self.data_dir
    }

    /// POSTs `body` to add-checkpoint: status, content type and body.
    pub async fn post(&self, body: impl Into<reqwest::Body>) -> Answer {
        let response = http()
            .post(format!("{}/add-checkpoint", self.url))
            .body(body)
            .send()
            .await
            .unwrap();
        Answer::read(response).await
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.text().await.unwrap();
        Answer {
            status,
            content_type,
            body,
        }
    }
}

/// An HTTP client that keeps no idle connections, so a stopped witness
/// is not held open by them.
pub fn http() -> reqwest::Client {
    // In the workspace, reqwest is built with rustls and no crypto chosen
    // (the server picks ring): a client needs one installed first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}
