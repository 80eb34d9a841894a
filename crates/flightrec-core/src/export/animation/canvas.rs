//! A paletted pixel canvas with an 8×8 bitmap font (font8x8, public
//! domain): what each frame of an animated replay is drawn on.

use font8x8::{BASIC_FONTS, BLOCK_FONTS, BOX_FONTS, GREEK_FONTS, LATIN_FONTS, UnicodeFonts};

/// The colours, as palette indices; [`PALETTE`] holds their RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Colour {
    Background,
    Text,
    Muted,
    Accent,
    Ok,
    Fail,
    Warn,
    AddedBackground,
    RemovedBackground,
    Bar,
    BarText,
    Line,
}

/// RGB of each [`Colour`], in order: the dashboard's light theme.
pub const PALETTE: [u8; 36] = [
    0xff, 0xff, 0xff, // background
    0x1b, 0x1f, 0x24, // text
    0x57, 0x60, 0x6a, // muted
    0x0b, 0x5c, 0xad, // accent
    0x11, 0x63, 0x29, // ok
    0xa4, 0x0e, 0x26, // fail
    0x9a, 0x67, 0x00, // warn
    0xda, 0xfb, 0xe1, // added lines
    0xff, 0xeb, 0xe9, // removed lines
    0x1b, 0x1f, 0x24, // title bar
    0xff, 0xff, 0xff, // title bar text
    0xd0, 0xd7, 0xde, // rules
];

/// Glyphs are 8 pixels square, drawn at `scale`.
pub const GLYPH: usize = 8;

pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![Colour::Background as u8; width * height],
        }
    }

    pub fn clear(&mut self) {
        self.pixels.fill(Colour::Background as u8);
    }

    /// Fills a rectangle, clipped to the canvas.
    pub fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, colour: Colour) {
        let (x_end, y_end) = ((x + w).min(self.width), (y + h).min(self.height));
        for row in y.min(y_end)..y_end {
            self.pixels[row * self.width + x.min(x_end)..row * self.width + x_end]
                .fill(colour as u8);
        }
    }

    /// Draws one line of text from `(x, y)`, cut at `max_chars`; answers
    /// how many characters it drew. A character the font lacks is `?`.
    pub fn text(
        &mut self,
        x: usize,
        y: usize,
        text: &str,
        colour: Colour,
        scale: usize,
        max_chars: usize,
    ) -> usize {
        let mut drawn = 0;
        for c in text.chars().filter(|c| !c.is_control()).take(max_chars) {
            let glyph = glyph(c);
            let left = x + drawn * GLYPH * scale;
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..GLYPH {
                    if bits & (1 << col) != 0 {
                        self.rect(left + col * scale, y + row * scale, scale, scale, colour);
                    }
                }
            }
            drawn += 1;
        }
        drawn
    }

    /// The smallest rectangle `(x, y, w, h)` holding every pixel that
    /// differs from `before` (of the same size); `None` when none does.
    pub fn changed_since(&self, before: &Canvas) -> Option<(usize, usize, usize, usize)> {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..self.height {
            let row = y * self.width..(y + 1) * self.width;
            let (now, then) = (&self.pixels[row.clone()], &before.pixels[row]);
            if now == then {
                continue;
            }
            let first = now
                .iter()
                .zip(then)
                .position(|(a, b)| a != b)
                .expect("rows differ");
            let last = now
                .iter()
                .zip(then)
                .rposition(|(a, b)| a != b)
                .expect("rows differ");
            (x0, x1) = (x0.min(first), x1.max(last));
            (y0, y1) = (y0.min(y), y);
        }
        (x0 != usize::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    }

    /// The pixels of a rectangle, row by row.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(w * h);
        for row in y..y + h {
            out.extend_from_slice(&self.pixels[row * self.width + x..row * self.width + x + w]);
        }
        out
    }
}

fn glyph(c: char) -> [u8; 8] {
    [
        &BASIC_FONTS as &dyn UnicodeFonts,
        &LATIN_FONTS,
        &GREEK_FONTS,
        &BOX_FONTS,
        &BLOCK_FONTS,
    ]
    .iter()
    .find_map(|fonts| fonts.get(c))
    .or_else(|| BASIC_FONTS.get('?'))
    .expect("the basic font has '?'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_drawn_and_changes_are_bounded() {
        let mut before = Canvas::new(64, 32);
        let mut after = Canvas::new(64, 32);
        assert_eq!(after.changed_since(&before), None);
        assert_eq!(after.text(8, 4, "Hi\u{7}é日", Colour::Text, 1, 10), 4);
        // 'H' has ink in its first row, at the glyph's left.
        let (x, y, w, h) = after.changed_since(&before).unwrap();
        assert!(
            x >= 8 && y >= 4 && x + w <= 8 + 4 * GLYPH && y + h <= 4 + GLYPH,
            "{x} {y} {w} {h}"
        );
        assert_eq!(after.crop(x, y, w, h).len(), w * h);
        before.rect(0, 0, 1000, 1000, Colour::Fail);
        assert!(before.pixels.iter().all(|&p| p == Colour::Fail as u8));
        assert_eq!(after.text(0, 0, "abc", Colour::Text, 2, 2), 2);
    }
}
