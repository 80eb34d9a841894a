//! A run's replay as an animated GIF, which any browser plays: a frame per
//! event, shown for the time until the next one was recorded (idle gaps
//! capped, every frame at least [`MIN_FRAME`]), each drawing what the
//! dashboard's player shows at that point: where the run is, the event,
//! the context the agent had, and the file the event touched (or the last
//! one changed) with the diff its last change made.
//!
//! Frames after the first hold only the rectangle that changed, over the
//! frame before (`DisposalMethod::Keep`), which keeps the file small.

mod canvas;

use crate::replay::{RunState, Step, delay};
use canvas::{Canvas, Colour, GLYPH, PALETTE};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::time::Duration;

pub const WIDTH: usize = 960;
pub const HEIGHT: usize = 600;
/// The shortest a frame is shown, so a burst of events stays readable.
pub const MIN_FRAME: Duration = Duration::from_millis(250);
/// How long the last frame is shown before the animation starts over.
pub const LAST_FRAME: Duration = Duration::from_secs(3);

const LINE: usize = 11;
const MARGIN: usize = 16;
const COLUMN: usize = WIDTH / 2;
/// Characters a column's line holds.
const COLUMN_CHARS: usize = (COLUMN - 2 * MARGIN) / GLYPH;
const TOP: usize = 52;

/// Writes the frames of one run, in run order.
pub struct GifReplay<W: Write> {
    encoder: gif::Encoder<W>,
    run_id: String,
    events: u64,
    max_gap: Duration,
    canvas: Canvas,
    /// What the animation shows after the frames written so far.
    shown: Canvas,
    /// The newest frame, written once the next event says how long it
    /// stays: its time, and whether any frame came before it.
    pending: Option<(Option<DateTime<Utc>>, bool)>,
    first_time: Option<DateTime<Utc>>,
    frames: u64,
}

impl<W: Write> GifReplay<W> {
    /// `events` is the run's length, for "event 3 / 29"; `max_gap` caps an
    /// idle gap between two events.
    pub fn new(out: W, run_id: &str, events: u64, max_gap: Duration) -> std::io::Result<Self> {
        let mut encoder =
            gif::Encoder::new(out, WIDTH as u16, HEIGHT as u16, &PALETTE).map_err(io)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(io)?;
        Ok(GifReplay {
            encoder,
            run_id: run_id.to_owned(),
            events,
            max_gap,
            canvas: Canvas::new(WIDTH, HEIGHT),
            shown: Canvas::new(WIDTH, HEIGHT),
            pending: None,
            first_time: None,
            frames: 0,
        })
    }

    /// Adds the frame of `step`, with `state` the run's state after it.
    pub fn frame(&mut self, step: &Step<'_>, state: &RunState) -> std::io::Result<()> {
        let time = crate::event::parse_time(step.time).ok();
        if let Some((before, _)) = self.pending.take() {
            let shown_for = match (before, time) {
                (Some(a), Some(b)) => delay(a, b, 1.0, self.max_gap),
                _ => MIN_FRAME,
            };
            self.write_pending(shown_for)?;
        }
        self.first_time = self.first_time.or(time);
        self.draw(step, state, time);
        self.pending = Some((time, self.frames > 0));
        Ok(())
    }

    /// Writes the last frame and the file's end; answers how many frames
    /// it holds.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        if self.pending.take().is_some() {
            self.write_pending(LAST_FRAME)?;
        }
        let frames = self.frames;
        Ok((self.encoder.into_inner().map_err(io)?, frames))
    }

    fn write_pending(&mut self, shown_for: Duration) -> std::io::Result<()> {
        let shown_for = shown_for.max(MIN_FRAME);
        let delay = (shown_for.as_millis() / 10).clamp(2, u16::MAX as u128) as u16;
        // The first frame is whole; each later one only what changed (an
        // unchanged frame still takes its time, as one pixel).
        let (x, y, w, h) = if self.frames == 0 {
            (0, 0, WIDTH, HEIGHT)
        } else {
            self.canvas
                .changed_since(&self.shown)
                .unwrap_or((0, 0, 1, 1))
        };
        let frame = gif::Frame {
            left: x as u16,
            top: y as u16,
            width: w as u16,
            height: h as u16,
            delay,
            dispose: gif::DisposalMethod::Keep,
            buffer: self.canvas.crop(x, y, w, h).into(),
            ..gif::Frame::default()
        };
        self.encoder.write_frame(&frame).map_err(io)?;
        self.shown.pixels.copy_from_slice(&self.canvas.pixels);
        self.frames += 1;
        Ok(())
    }

    fn draw(&mut self, step: &Step<'_>, state: &RunState, time: Option<DateTime<Utc>>) {
        let c = &mut self.canvas;
        c.clear();
        // Where the run is.
        c.rect(0, 0, WIDTH, 36, Colour::Bar);
        c.text(MARGIN, 10, "flightrec", Colour::BarText, 2, 9);
        c.text(
            MARGIN + 11 * 2 * GLYPH,
            14,
            &format!("run {}", self.run_id),
            Colour::BarText,
            1,
            60,
        );
        let position = format!(
            "event {} / {}",
            step.index + 1,
            self.events.max(step.index + 1)
        );
        c.text(
            WIDTH - MARGIN - position.len() * GLYPH,
            14,
            &position,
            Colour::BarText,
            1,
            40,
        );
        c.rect(0, 36, WIDTH, 6, Colour::Line);
        let done = WIDTH as u64 * (step.index + 1) / self.events.max(step.index + 1);
        c.rect(0, 36, done as usize, 6, Colour::Accent);
        c.rect(COLUMN, TOP - 4, 1, HEIGHT - TOP - 24, Colour::Line);

        // The event.
        let (status_colour, status) = match step.status {
            crate::event::Status::Ok => (Colour::Ok, "OK"),
            crate::event::Status::Warn => (Colour::Warn, "WARN"),
            crate::event::Status::Fail => (Colour::Fail, "FAIL"),
        };
        let mut y = TOP;
        c.text(MARGIN, y, "EVENT", Colour::Muted, 1, 10);
        y += LINE + 2;
        let n = c.text(
            MARGIN,
            y,
            step.event_type,
            Colour::Text,
            2,
            COLUMN_CHARS / 2 - 6,
        );
        c.text(MARGIN + (n + 1) * 2 * GLYPH, y, status, status_colour, 2, 4);
        y += 2 * GLYPH + 6;
        let offset = match (self.first_time, time) {
            (Some(a), Some(b)) => format!("  +{:.1} s", (b - a).num_milliseconds() as f64 / 1000.0),
            _ => String::new(),
        };
        c.text(
            MARGIN,
            y,
            &format!("{}{offset}", step.time),
            Colour::Muted,
            1,
            COLUMN_CHARS,
        );
        y += LINE + 4;
        let body = serde_json::to_string_pretty(step.body).unwrap_or_default();
        for line in body.lines().skip(1).take(20) {
            c.text(
                MARGIN,
                y,
                line.strip_prefix("  ").unwrap_or(line),
                Colour::Text,
                1,
                COLUMN_CHARS,
            );
            y += LINE;
        }

        // The context the agent had, the newest last.
        y = y.max(TOP + 300);
        c.text(MARGIN, y, "CONTEXT", Colour::Muted, 1, 10);
        y += LINE + 2;
        let room = (HEIGHT - 30 - y) / LINE;
        let skip = state.context.len().saturating_sub(room);
        for entry in &state.context[skip..] {
            let what = entry
                .text
                .as_deref()
                .or(entry.tool.as_deref())
                .unwrap_or(&entry.event_type);
            let role = format!("{:?}", entry.role).to_lowercase();
            let first = what.lines().next().unwrap_or("");
            c.text(
                MARGIN,
                y,
                &format!("{role}: {first}"),
                Colour::Text,
                1,
                COLUMN_CHARS,
            );
            y += LINE;
        }

        // The file this event touched, else the last one changed.
        let x = COLUMN + MARGIN;
        let mut y = TOP;
        // Changes are kept in run order: the last is this event's, if it
        // changed a file.
        match state.changes.last() {
            None => {
                c.text(x, y, "FILES", Colour::Muted, 1, 10);
                y += LINE + 2;
                if state.files.is_empty() {
                    c.text(x, y, "none touched yet", Colour::Muted, 1, COLUMN_CHARS);
                }
                for path in state.files.keys().take((HEIGHT - 30 - y) / LINE) {
                    c.text(x, y, path, Colour::Text, 1, COLUMN_CHARS);
                    y += LINE;
                }
            }
            Some(ch) => {
                let when = if ch.index == step.index {
                    "changed by this event".to_owned()
                } else {
                    format!("last changed by event {}", ch.index + 1)
                };
                c.text(
                    x,
                    y,
                    &format!("FILE  {when}"),
                    Colour::Muted,
                    1,
                    COLUMN_CHARS,
                );
                y += LINE + 2;
                c.text(x, y, &ch.path, Colour::Accent, 1, COLUMN_CHARS);
                y += LINE + 4;
                let content = state.files.get(&ch.path).and_then(|f| f.content.as_deref());
                let lines: Box<dyn Iterator<Item = &str>> = if ch.diff.is_empty() {
                    Box::new(content.unwrap_or("(content not seen)").lines())
                } else {
                    Box::new(ch.diff.lines().skip(2)) // past the ---/+++ lines
                };
                for line in lines.take((HEIGHT - 30 - y) / LINE) {
                    let (background, colour) = match line.as_bytes().first() {
                        Some(b'+') if !ch.diff.is_empty() => {
                            (Some(Colour::AddedBackground), Colour::Ok)
                        }
                        Some(b'-') if !ch.diff.is_empty() => {
                            (Some(Colour::RemovedBackground), Colour::Fail)
                        }
                        Some(b'@') if !ch.diff.is_empty() => (None, Colour::Muted),
                        _ => (None, Colour::Text),
                    };
                    if let Some(bg) = background {
                        c.rect(x - 4, y - 2, COLUMN - 2 * MARGIN + 8, LINE, bg);
                    }
                    c.text(x, y, line, colour, 1, COLUMN_CHARS);
                    y += LINE;
                }
            }
        }

        // What the run holds so far.
        let footer = format!(
            "{} files  ·  {} changes  ·  {} problems",
            state.files.len(),
            state.changes.len(),
            state.problems.len()
        );
        c.rect(0, HEIGHT - 22, WIDTH, 1, Colour::Line);
        c.text(MARGIN, HEIGHT - 15, &footer, Colour::Muted, 1, 100);
    }
}

fn io(e: gif::EncodingError) -> std::io::Error {
    match e {
        gif::EncodingError::Io(e) => e,
        other => std::io::Error::other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Body, Status};
    use serde_json::json;

    #[test]
    fn a_frame_per_event_at_the_recorded_pace() {
        let bodies: Vec<(&str, &str, Body)> = vec![
            ("start", "2026-11-22T10:00:00Z", Body::default()),
            (
                "write_file",
                "2026-11-22T10:00:00.1Z",
                serde_json::from_value(json!({"input": {"path": "a.txt", "content": "one\n"}}))
                    .unwrap(),
            ),
            (
                "edit_file",
                "2026-11-22T10:00:01.5Z",
                serde_json::from_value(
                    json!({"input": {"path": "a.txt", "old_str": "one", "new_str": "two"}}),
                )
                .unwrap(),
            ),
            ("complete", "2026-11-22T11:00:00Z", Body::default()),
        ];
        let mut gif = GifReplay::new(Vec::new(), "fix-1", 4, Duration::from_secs(2)).unwrap();
        // What each frame must show, drawn whole.
        let mut whole = GifReplay::new(Vec::new(), "fix-1", 4, Duration::from_secs(2)).unwrap();
        let mut expected = Vec::new();
        let mut state = RunState::default();
        for (i, (t, time, body)) in bodies.iter().enumerate() {
            let step = Step {
                index: i as u64,
                seq: i as u64,
                time,
                event_type: t,
                status: Status::Ok,
                body,
            };
            state.apply(&step);
            gif.frame(&step, &state).unwrap();
            whole.first_time = whole.first_time.or(crate::event::parse_time(time).ok());
            whole.draw(&step, &state, crate::event::parse_time(time).ok());
            expected.push(whole.canvas.pixels.clone());
        }
        let (bytes, frames) = gif.finish().unwrap();
        assert_eq!(frames, 4);
        assert_eq!(&bytes[..6], b"GIF89a");
        // Read back: sizes and delays (centiseconds).
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::Indexed);
        let mut decoder = options.read_info(bytes.as_slice()).unwrap();
        assert_eq!(
            (decoder.width(), decoder.height()),
            (WIDTH as u16, HEIGHT as u16)
        );
        let mut delays = Vec::new();
        // Each frame laid over the ones before (they are kept) is the
        // whole drawing of its event.
        let mut screen = vec![0u8; WIDTH * HEIGHT];
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            delays.push(frame.delay);
            let (left, top, w) = (
                frame.left as usize,
                frame.top as usize,
                frame.width as usize,
            );
            for (row, line) in frame.buffer.chunks(w).enumerate() {
                let at = (top + row) * WIDTH + left;
                screen[at..at + w].copy_from_slice(line);
            }
            assert!(
                screen == expected[delays.len() - 1],
                "frame {}",
                delays.len() - 1
            );
        }
        // 100 ms is raised to the shortest frame; 1.4 s kept; an hour capped.
        assert_eq!(delays, [25, 140, 200, 300]);
    }
}
