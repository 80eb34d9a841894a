//! A report as PDF (with `pdf-writer`, typst's low-level writer): A4
//! landscape pages of monospaced text — tables line up without measuring
//! glyphs, and Courier is one of the 14 fonts every reader has, so nothing
//! is embedded. Text outside Windows-1252 is shown as `?`.

use super::document::{Document, cell_text};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const PAGE_WIDTH: f32 = 842.0;
const PAGE_HEIGHT: f32 = 595.0;
const MARGIN: f32 = 36.0;
const FONT_SIZE: f32 = 7.0;
const LEADING: f32 = 9.0;
/// Courier's glyphs are all 600/1000 of the font size wide.
const CHARS_PER_LINE: usize = ((PAGE_WIDTH - 2.0 * MARGIN) / (FONT_SIZE * 0.6)) as usize;
const LINES_PER_PAGE: usize = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize - 2;
/// The widest a table column gets before its cells are cut short.
const MAX_COLUMN: usize = 48;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

struct Line {
    text: String,
    bold: bool,
}

fn line(text: impl Into<String>, bold: bool) -> Line {
    Line {
        text: text.into(),
        bold,
    }
}

/// Breaks `text` into lines of at most [`CHARS_PER_LINE`] characters.
fn wrapped(text: &str, bold: bool, out: &mut Vec<Line>) {
    for paragraph in text.lines() {
        let chars: Vec<char> = paragraph.chars().collect();
        if chars.is_empty() {
            out.push(line("", bold));
        }
        for chunk in chars.chunks(CHARS_PER_LINE) {
            out.push(line(chunk.iter().collect::<String>(), bold));
        }
    }
}

/// A cell cut to `width` characters (`~` marks the cut), padded.
fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('~');
        cut
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}

/// The document as lines of text.
fn layout(doc: &Document) -> Vec<Line> {
    let mut lines = vec![line(format!("flightrec — {}", doc.title), true)];
    wrapped(
        &format!(
            "Tenant {} · {} to {} · generated {} · report {}",
            doc.tenant,
            doc.from.as_deref().unwrap_or("the beginning"),
            doc.to.as_deref().unwrap_or("now"),
            doc.generated_at,
            doc.id
        ),
        false,
        &mut lines,
    );
    lines.push(line("", false));
    wrapped(&doc.basis.summary(), true, &mut lines);
    lines.push(line("Signed checkpoint:", false));
    wrapped(&doc.basis.signed_checkpoint, false, &mut lines);
    for section in &doc.sections {
        lines.push(line("", false));
        lines.push(line(section.title, true));
        let cells: Vec<Vec<String>> = section
            .rows
            .iter()
            .map(|row| row.iter().map(cell_text).collect())
            .collect();
        let widths: Vec<usize> = section
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                cells
                    .iter()
                    .map(|row| row.get(i).map_or(0, |c| c.chars().count()))
                    .chain([column.chars().count()])
                    .max()
                    .unwrap_or(0)
                    .min(MAX_COLUMN)
            })
            .collect();
        let row_text = |row: &[String]| {
            let fitted: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| fit(row.get(i).map_or("", String::as_str), *w))
                .collect();
            fitted.join("  ").trim_end().to_owned()
        };
        let header: Vec<String> = section.columns.iter().map(|c| (*c).to_owned()).collect();
        wrapped(&row_text(&header), true, &mut lines);
        if cells.is_empty() {
            lines.push(line("None in this window.", false));
        }
        for row in &cells {
            wrapped(&row_text(row), false, &mut lines);
        }
        if let Some(note) = &section.note {
            wrapped(note, false, &mut lines);
        }
    }
    lines
}

/// Text as Windows-1252 bytes (what `WinAnsiEncoding` shows): ASCII and
/// Latin-1 as they are, a few common signs mapped, anything else `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' | '\u{a0}'..='\u{ff}' => c as u8,
            '—' => 0x97,
            '–' => 0x96,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            _ => b'?',
        })
        .collect()
}

pub fn write(doc: &Document) -> Vec<u8> {
    let lines = layout(doc);
    let pages: Vec<&[Line]> = lines.chunks(LINES_PER_PAGE).collect();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let page_ref = |i: usize| Ref::new(6 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(7 + 2 * i as i32);

    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..pages.len()).map(page_ref))
        .count(pages.len() as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Courier"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Courier-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&format!("flightrec {} {}", doc.title, doc.id)))
        .producer(TextStr("flightrec"));

    for (i, page_lines) in pages.iter().enumerate() {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree);
        page.contents(content_ref(i));
        let mut resources = page.resources();
        resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
        resources.finish();
        page.finish();

        let mut content = Content::new();
        content.begin_text();
        content.set_font(REGULAR, FONT_SIZE);
        content.set_leading(LEADING);
        content.next_line(MARGIN, PAGE_HEIGHT - MARGIN);
        let mut font = REGULAR;
        for l in page_lines.iter() {
            let wanted = if l.bold { BOLD } else { REGULAR };
            if wanted != font {
                content.set_font(wanted, FONT_SIZE);
                font = wanted;
            }
            content.show(Str(&win_ansi(&l.text)));
            content.next_line_using_leading();
        }
        content.set_font(REGULAR, FONT_SIZE);
        content.next_line_using_leading();
        content.show(Str(&win_ansi(&format!(
            "{} {} · page {} of {}",
            doc.title,
            doc.id,
            i + 1,
            pages.len()
        ))));
        content.end_text();
        pdf.stream(content_ref(i), &content.finish());
    }
    pdf.finish()
}
