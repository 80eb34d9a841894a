//! `flightrec runs replay` in a terminal: the run plays at its own pace
//! (through the SDK's replay cursor) while keys pause, step, seek and
//! change speed, and the right pane shows what each event did, with the
//! file it changed and the diff.
//!
//! [`model`] holds what is known and what keys do, [`view`] draws it as
//! lines; this file wires them to the terminal, the replay and the server.

mod model;
mod view;

use model::{Command, Key, Player};
use view::{Style, render};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::{Attribute, Print, SetAttribute};
use crossterm::{cursor, execute, queue, terminal};
use flightrec_client::{Client, Replay, ReplayControl, RunEvent, Until, path_segment};
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the player loop hears about.
enum Input {
    Key(Key),
    Resize,
    Shown(RunEvent),
    Ended(String),
    Failed(String),
    State(u64, Box<flightrec_client::RunState>),
    Run { total: u64, status: String },
}

/// Plays `replay` until the user quits.
pub async fn play(client: Client, run_id: &str, replay: Replay, speed: f64) -> anyhow::Result<()> {
    let _screen = Screen::enter()?;
    let (tx, mut inputs) = mpsc::channel::<Input>(256);
    let control = replay.control();
    spawn_keys(tx.clone());
    tokio::spawn(feed(replay, tx.clone()));
    tokio::spawn(watch_run(client.clone(), run_id.to_owned(), tx.clone()));

    let mut player = Player::new(run_id, speed);
    let mut fetching = false;
    draw(&player)?;
    while let Some(input) = inputs.recv().await {
        match input {
            Input::Key(key) => {
                player.message = None;
                for command in player.key(key) {
                    if command == Command::Quit {
                        return Ok(());
                    }
                    apply(&control, command);
                }
            }
            Input::Resize => {}
            Input::Shown(e) => player.shown(e),
            Input::Ended(why) => {
                player.ended = Some(why);
                player.playing = false;
            }
            Input::Failed(why) => player.message = Some(why),
            Input::State(index, state) => {
                fetching = false;
                if player.current == Some(index) {
                    player.state = Some(*state);
                }
            }
            Input::Run { total, status } => {
                player.total = player.total.max(total);
                player.run_status = status;
            }
        }
        // One state request at a time, for the event on screen.
        if let (Some(index), None, false) = (player.current, &player.state, fetching) {
            fetching = true;
            tokio::spawn(fetch_state(
                client.clone(),
                run_id.to_owned(),
                index,
                tx.clone(),
            ));
        }
        // Draw once the burst of inputs has been taken in.
        if inputs.is_empty() {
            draw(&player)?;
        }
    }
    Ok(())
}

fn apply(control: &ReplayControl, command: Command) {
    match command {
        Command::Pause => control.pause(),
        Command::Resume => control.resume(),
        Command::Step => control.step(),
        Command::Seek(n) => control.seek_to_event(n),
        Command::Speed(s) => {
            let _ = control.set_speed(s);
        }
        Command::Quit => {}
    }
}

/// Sends the replay's events on. At the end it says so once, then asks
/// again now and then: a seek starts the replay over.
async fn feed(mut replay: Replay, tx: mpsc::Sender<Input>) {
    let mut said_end = false;
    loop {
        let input = match replay.next().await {
            Some(Ok(e)) => {
                said_end = false;
                Input::Shown(e)
            }
            Some(Err(e)) => Input::Failed(e.to_string()),
            None if said_end => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            None => {
                said_end = true;
                Input::Ended(replay.end().map_or("stopped".into(), |e| e.reason.clone()))
            }
        };
        let failed = matches!(input, Input::Failed(_));
        if tx.send(input).await.is_err() {
            return;
        }
        if failed {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Keeps the run's length and status current (a live run grows).
async fn watch_run(client: Client, run_id: String, tx: mpsc::Sender<Input>) {
    let path = format!("/v1/runs/{}", path_segment(&run_id));
    loop {
        if let Ok(run) = client.get(&path, &[]).await {
            let input = Input::Run {
                total: run["event_count"].as_u64().unwrap_or_default(),
                status: run["status"].as_str().unwrap_or_default().to_owned(),
            };
            if tx.send(input).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn fetch_state(client: Client, run_id: String, index: u64, tx: mpsc::Sender<Input>) {
    let input = match client.run_state(&run_id, Until::Event(index)).await {
        Ok(state) => Input::State(index, Box::new(state)),
        Err(e) => Input::Failed(format!("could not read the state: {e}")),
    };
    let _ = tx.send(input).await;
}

/// Reads keys on a thread of its own (the terminal's reads block).
fn spawn_keys(tx: mpsc::Sender<Input>) {
    std::thread::spawn(move || {
        while !tx.is_closed() {
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let input = match event::read() {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match key_of(k) {
                    Some(key) => Input::Key(key),
                    None => continue,
                },
                Ok(Event::Resize(..)) => Input::Resize,
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.blocking_send(input).is_err() {
                return;
            }
        }
    });
}

fn key_of(k: KeyEvent) -> Option<Key> {
    Some(match k.code {
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::CtrlC,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Esc => Key::Esc,
        _ => return None,
    })
}

fn draw(player: &Player) -> std::io::Result<()> {
    let (w, h) = terminal::size()?;
    let mut out = std::io::stdout().lock();
    for (row, l) in render(player, w as usize, h as usize).iter().enumerate() {
        let attribute = match l.style {
            Style::Strong => Attribute::Bold,
            Style::Dim => Attribute::Dim,
            Style::Plain => Attribute::Reset,
        };
        queue!(
            out,
            cursor::MoveTo(0, row as u16),
            SetAttribute(attribute),
            Print(&l.text),
            SetAttribute(Attribute::Reset),
            terminal::Clear(terminal::ClearType::UntilNewLine),
        )?;
    }
    out.flush()
}

/// The alternate screen in raw mode, left as it was found however the
/// player ends.
struct Screen;

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        terminal::enable_raw_mode()?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        Ok(Screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}
