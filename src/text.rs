//! Text as the offices write it: names normalised to NFC, and a search form that treats
//! traditional and simplified characters, full- and half-width forms, and case alike, with the
//! pinyin and pinyin initials of names (so `luowei` and `lw` find 羅維).

use pinyin::ToPinyin;
use unicode_normalization::UnicodeNormalization;

/// The canonical stored form of entered text: NFC, trimmed.
pub fn normalise(text: &str) -> String {
    text.trim().nfc().collect()
}

/// The form both stored search text and queries are reduced to: NFKC (full-width letters and
/// digits become ASCII), traditional characters to simplified, lower case.
pub fn fold(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    fast2s::convert(&nfkc).to_lowercase()
}

/// The pinyin of a name without tones or spaces (`罗维` -> `luowei`), characters without pinyin
/// kept as they are (folded).
pub fn pinyin_of(text: &str) -> String {
    fold(text)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '·')
        .map(|c| {
            c.to_pinyin()
                .map_or_else(|| c.to_string(), |p| p.plain().to_owned())
        })
        .collect()
}

/// The initials of a name's pinyin (`罗维` -> `lw`).
pub fn initials_of(text: &str) -> String {
    fold(text)
        .chars()
        .filter_map(|c| c.to_pinyin().map(|p| p.first_letter().to_owned()))
        .collect()
}

/// Placed after every character of the short-query half of the stored search text. Both engines
/// index search text by trigrams (pg_trgm on PostgreSQL, FTS5's trigram tokenizer on SQLite),
/// which cannot serve a two-character query, and most Chinese names are two or three characters;
/// marked, a two-character query is three characters long (`王ǂ芳`): one trigram, which the
/// index serves. A letter, because pg_trgm indexes only letters and digits, and one that names
/// and units do not use: it is removed from all text before marking.
pub const SEARCH_MARK: char = 'ǂ';

/// Folded text with the mark removed and every run of whitespace made one space.
fn plain_for_search(folded: &str) -> String {
    folded
        .split(|c: char| c.is_whitespace())
        .filter(|word| !word.is_empty())
        .map(|word| word.replace(SEARCH_MARK, ""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `SEARCH_MARK` after every character but spaces: `王芳 wf` -> `王ǂ芳ǂ wǂfǂ`.
fn marked_for_search(plain: &str) -> String {
    let mut marked = String::with_capacity(plain.len() * 2);
    for c in plain.chars() {
        marked.push(c);
        if c != ' ' {
            marked.push(SEARCH_MARK);
        }
    }
    marked
}

/// The stored search text: the marked form, a space, and the plain form. Queries of two
/// characters are matched against the marked half, longer ones against the plain half, whose
/// trigrams are real ones and far more selective (`zhangwei` is six trigrams there, fourteen
/// mostly two-letter ones in the marked half). A pattern of one half never matches in the other:
/// every character of the marked half is followed by the mark, which no plain pattern holds.
pub fn search_text(folded: &str) -> String {
    let plain = plain_for_search(folded);
    format!("{} {plain}", marked_for_search(&plain))
}

/// The pattern a search query is matched with (see `search_text`): the plain form for three
/// characters or more; for one or two, the marked form without its last mark (`王芳` ->
/// `王ǂ芳`). In the marked half every character is followed by the mark, so the last one adds
/// nothing to what matches, but as a trigram of its own (`ǂ芳ǂ`: every cadre with 芳 anywhere)
/// it made SQLite's trigram table read a list of matches many times longer than the query's.
pub fn search_pattern(folded_query: &str) -> String {
    let plain = plain_for_search(folded_query);
    if plain.chars().count() >= 3 {
        plain
    } else {
        let mut marked = marked_for_search(&plain);
        marked.pop();
        marked
    }
}

/// Escapes `%`, `_` and `\` so that user text is matched literally by `LIKE ... ESCAPE '\'`.
pub fn like_contains(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_simplified_width_and_case_fold_alike() {
        assert_eq!(fold("羅維"), fold("罗维"));
        assert_eq!(fold("ＬＵＯ Wei"), "luo wei");
        assert_eq!(pinyin_of("羅維"), "luowei");
        assert_eq!(initials_of("罗维"), "lw");
        assert_eq!(pinyin_of("阿依古丽·买买提"), "ayigulimaimaiti");
    }

    #[test]
    fn names_are_stored_in_nfc() {
        // "é" as e + combining acute becomes one code point.
        assert_eq!(normalise(" e\u{301} "), "\u{e9}");
    }

    #[test]
    fn search_patterns_match_exactly_the_substrings() {
        assert_eq!(search_text("王芳 wf"), "王ǂ芳ǂ wǂfǂ 王芳 wf");
        assert_eq!(search_pattern("王芳"), "王ǂ芳");
        assert_eq!(search_pattern("王"), "王");
        assert_eq!(search_pattern("wangfang"), "wangfang");
        let text = search_text("区财政局  wangfang ǂx");
        let cases = [
            ("财政", true),
            ("财", true),
            ("ang", true),
            ("an", true),
            ("局 w", true),
            ("g x", true),
            ("g w", false),
            ("政区", false),
            ("局w", false),
            ("gǂ", true),
        ];
        for (query, found) in cases {
            assert_eq!(text.contains(&search_pattern(query)), found, "{query}");
        }
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_contains("50%_\\"), "%50\\%\\_\\\\%");
    }
}
