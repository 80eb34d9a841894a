//! What the terminal player knows and how keys change it; no terminal
//! here, so it is tested as plain data.

use flightrec_client::{RunEvent, RunState};
use serde_json::Value;
use std::collections::BTreeMap;

/// The keys the player answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Left,
    Right,
    Home,
    End,
    Esc,
    CtrlC,
}

/// What the player asks of the replay.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Pause,
    Resume,
    /// Show the next event now.
    Step,
    /// Make this event the next one.
    Seek(u64),
    Speed(f64),
    Quit,
}

const SPEEDS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0];

#[derive(Debug, Clone)]
pub struct Player {
    pub run_id: String,
    /// Every event seen so far, by index.
    pub events: BTreeMap<u64, Value>,
    /// The event on screen.
    pub current: Option<u64>,
    /// Events in the run, as last counted.
    pub total: u64,
    /// The run's status, as last read.
    pub run_status: String,
    pub playing: bool,
    pub speed: f64,
    /// The state after the event on screen, once fetched.
    pub state: Option<RunState>,
    /// Why the replay stopped, once it has.
    pub ended: Option<String>,
    /// A line for the user (an error, a hint).
    pub message: Option<String>,
}

impl Player {
    pub fn new(run_id: &str, speed: f64) -> Player {
        Player {
            run_id: run_id.to_owned(),
            events: BTreeMap::new(),
            current: None,
            total: 0,
            run_status: String::new(),
            playing: true,
            speed,
            state: None,
            ended: None,
            message: None,
        }
    }

    /// An event arrived from the replay: it is now on screen.
    pub fn shown(&mut self, e: RunEvent) {
        self.total = self.total.max(e.index + 1);
        if self.current != Some(e.index) {
            self.state = None;
        }
        self.current = Some(e.index);
        self.events.insert(e.index, e.event);
        self.ended = None;
    }

    /// The event on screen.
    pub fn current_event(&self) -> Option<&Value> {
        self.events.get(&self.current?)
    }

    /// What a key does.
    pub fn key(&mut self, key: Key) -> Vec<Command> {
        use Command::*;
        let here = self.current.unwrap_or(0);
        let last = self.total.saturating_sub(1);
        let jump = |player: &mut Player, to: u64| {
            player.playing = false;
            vec![Pause, Seek(to), Step]
        };
        match key {
            Key::Char('q') | Key::Esc | Key::CtrlC => vec![Quit],
            Key::Char(' ') | Key::Char('p') => {
                self.playing = !self.playing;
                vec![if self.playing { Resume } else { Pause }]
            }
            Key::Right | Key::Char('l') | Key::Char('n') => {
                self.playing = false;
                if self.current.is_some() && here >= last {
                    self.message = Some("at the last event".into());
                    return vec![Pause];
                }
                vec![Pause, Step]
            }
            Key::Left | Key::Char('h') | Key::Char('b') => match self.current {
                Some(n) if n > 0 => jump(self, n - 1),
                _ => {
                    self.message = Some("at the first event".into());
                    vec![]
                }
            },
            Key::Char(']') => jump(self, (here + 10).min(last)),
            Key::Char('[') => jump(self, here.saturating_sub(10)),
            Key::Home | Key::Char('g') => jump(self, 0),
            Key::End | Key::Char('G') => jump(self, last),
            Key::Char('+') | Key::Char('=') | Key::Char('>') => self.respeed(1),
            Key::Char('-') | Key::Char('<') => self.respeed(-1),
            Key::Char('1') => {
                self.speed = 1.0;
                vec![Speed(1.0)]
            }
            _ => {
                self.message = Some(HELP.into());
                vec![]
            }
        }
    }

    fn respeed(&mut self, by: isize) -> Vec<Command> {
        let at = SPEEDS
            .iter()
            .position(|s| *s >= self.speed)
            .unwrap_or(SPEEDS.len() - 1) as isize;
        let to = (at + by).clamp(0, SPEEDS.len() as isize - 1) as usize;
        self.speed = SPEEDS[to];
        vec![Command::Speed(self.speed)]
    }
}

pub const HELP: &str =
    "space play/pause · ←/→ step · [ ] ±10 · g/G first/last · +/- speed · 1 normal · q quit";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn player_at(index: u64, total: u64) -> Player {
        let mut p = Player::new("r", 1.0);
        p.total = total;
        p.shown(RunEvent {
            index,
            event: json!({"type": "thinking"}),
        });
        p
    }

    #[test]
    fn keys_move_and_pace_the_replay() {
        let mut p = player_at(5, 20);
        assert_eq!(p.key(Key::Char(' ')), [Command::Pause]);
        assert!(!p.playing);
        assert_eq!(p.key(Key::Char(' ')), [Command::Resume]);
        assert_eq!(p.key(Key::Right), [Command::Pause, Command::Step]);
        assert_eq!(
            p.key(Key::Left),
            [Command::Pause, Command::Seek(4), Command::Step]
        );
        assert_eq!(p.key(Key::Char(']'))[1], Command::Seek(15));
        assert_eq!(p.key(Key::Char('['))[1], Command::Seek(0));
        assert_eq!(p.key(Key::End)[1], Command::Seek(19));
        assert_eq!(p.key(Key::Char('+')), [Command::Speed(2.0)]);
        assert_eq!(p.key(Key::Char('+')), [Command::Speed(4.0)]);
        assert_eq!(p.key(Key::Char('-')), [Command::Speed(2.0)]);
        assert_eq!(p.key(Key::Char('q')), [Command::Quit]);
    }

    #[test]
    fn the_ends_of_the_run_hold() {
        let mut first = player_at(0, 3);
        assert!(first.key(Key::Left).is_empty());
        assert_eq!(first.message.as_deref(), Some("at the first event"));
        let mut last = player_at(2, 3);
        assert_eq!(last.key(Key::Right), [Command::Pause]);
        let mut slow = player_at(0, 3);
        slow.speed = 0.25;
        assert_eq!(slow.key(Key::Char('-')), [Command::Speed(0.25)]);
    }
}
