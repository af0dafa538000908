//! Import from and export to spreadsheets (XLSX and CSV) with the documented template columns.
//! An import checks every row with the same rules as the API and is all-or-nothing.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Cursor, Seek, Write};

use calamine::{DataRef, DataType, Reader, Xlsx};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::dto::{CadreFilter, CadreView, CreateCadreRequest};
use super::profile::Profile;
use super::repo;
use super::service::{self, NewCadre, ID_NUMBER_LOOKUP};
use super::tallies;
use super::vocab::{ethnicity_from_text, Category, Degree, Education, Gender, Level, Party};
use crate::audit::{self, Actor, Event};
use crate::crypto::DataKey;
use crate::db::schema::{cadres, units};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::web::QueryPart;
use diesel::prelude::*;

/// How much one import may carry (`TONGXIN_IMPORT_MAX_ROWS`, `TONGXIN_IMPORT_MAX_MIB`). The
/// defaults take a large register, 100,000 rows, in one file; the file is held in memory while
/// it is read, its rows are not.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    pub max_rows: usize,
    pub max_bytes: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_rows: 100_000,
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

/// The most rows one export gives.
pub const MAX_EXPORT_ROWS: usize = 200_000;

/// A column of the template: its key (English header), Chinese header, and whether required.
pub struct Column {
    pub key: &'static str,
    pub header: &'static str,
    pub required: bool,
    pub note: &'static str,
}

pub const COLUMNS: &[Column] = &[
    Column {
        key: "name",
        header: "姓名",
        required: true,
        note: "1-50 characters",
    },
    Column {
        key: "former_name",
        header: "曾用名",
        required: false,
        note: "",
    },
    Column {
        key: "gender",
        header: "性别",
        required: true,
        note: "男/女 or male/female",
    },
    Column {
        key: "ethnicity",
        header: "民族",
        required: true,
        note: "e.g. 汉族, 土家族, or the GB/T 3304 code",
    },
    Column {
        key: "birth_date",
        header: "出生日期",
        required: true,
        note: "YYYY-MM-DD",
    },
    Column {
        key: "native_place",
        header: "籍贯",
        required: false,
        note: "",
    },
    Column {
        key: "id_number",
        header: "公民身份号码",
        required: false,
        note: "18 characters; format the column as text",
    },
    Column {
        key: "phone",
        header: "联系电话",
        required: false,
        note: "",
    },
    Column {
        key: "email",
        header: "电子邮箱",
        required: false,
        note: "",
    },
    Column {
        key: "party",
        header: "党派",
        required: true,
        note: "民革 民盟 民建 民进 农工党 致公党 九三学社 台盟 无党派人士 无",
    },
    Column {
        key: "party_joined_on",
        header: "加入党派时间",
        required: false,
        note: "YYYY-MM-DD",
    },
    Column {
        key: "categories",
        header: "统战类别",
        required: false,
        note: "several separated by ；",
    },
    Column {
        key: "level",
        header: "管理层级",
        required: true,
        note: "区级/乡镇级",
    },
    Column {
        key: "unit",
        header: "所属单位",
        required: false,
        note: "the exact name of a unit in the system",
    },
    Column {
        key: "workplace",
        header: "工作单位",
        required: false,
        note: "",
    },
    Column {
        key: "position",
        header: "职务",
        required: false,
        note: "",
    },
    Column {
        key: "education",
        header: "学历",
        required: false,
        note: "研究生 大学本科 大学专科 中专或高中 初中及以下",
    },
    Column {
        key: "degree",
        header: "学位",
        required: false,
        note: "博士 硕士 学士 无学位",
    },
    Column {
        key: "professional_title",
        header: "职称",
        required: false,
        note: "",
    },
    Column {
        key: "sectors",
        header: "行业领域",
        required: false,
        note: "several separated by ；",
    },
    Column {
        key: "expertise",
        header: "专长",
        required: false,
        note: "several separated by ；",
    },
    Column {
        key: "notes",
        header: "备注",
        required: false,
        note: "",
    },
];

/// Extra columns an export may include.
const EXPORT_ONLY: &[(&str, &str)] = &[("id", "编号"), ("age", "年龄"), ("status", "状态")];

fn split_list(text: &str) -> Vec<String> {
    text.split(['；', ';', '、', ',', '，'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    #[default]
    Xlsx,
    Csv,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateParams {
    #[param(inline)]
    pub format: Option<FileFormat>,
}

#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `xlsx` (default) or `csv` (UTF-8 with a byte-order mark, which spreadsheet programs read).
    #[param(inline)]
    pub format: Option<FileFormat>,
    /// Comma-separated column keys (see the template); default all. ID number and phone are
    /// always masked.
    #[validate(length(min = 1, max = 500))]
    pub fields: Option<String>,
}

impl QueryPart for ExportParams {
    const KEYS: &'static [&'static str] = &["format", "fields"];
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowError {
    /// The spreadsheet row (the header is row 1).
    pub row: usize,
    /// Column key -> the rules broken.
    pub fields: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    pub valid: usize,
    /// Cadres created (0 on a dry run).
    pub imported: usize,
    pub errors: Vec<RowError>,
}

/// Calls `visit` with each row of an uploaded file (XLSX, or CSV in UTF-8 or GB 18030) in order,
/// with its spreadsheet row number (from 1) and its cells by column (from 0). One row is held at
/// a time, so a large file costs its own bytes (and an XLSX's shared strings), not its rows.
fn each_row(
    bytes: &[u8],
    visit: &mut dyn FnMut(usize, Vec<String>) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    if bytes.starts_with(b"PK\x03\x04") {
        each_xlsx_row(bytes, visit)
    } else {
        each_csv_row(bytes, visit)
    }
}

fn each_csv_row(
    bytes: &[u8],
    visit: &mut dyn FnMut(usize, Vec<String>) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Spreadsheet programs on Chinese systems save CSV as GB 18030 unless told otherwise.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => encoding_rs::GB18030.decode(bytes).0,
    };
    if text.contains('\0') {
        return Err(ApiError::bad_request(
            "unreadable_file",
            "the file contains NUL characters",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut number = 0;
    while reader.read_record(&mut record).map_err(|e| {
        ApiError::bad_request("unreadable_file", format!("the CSV cannot be read: {e}"))
    })? {
        number += 1;
        visit(number, record.iter().map(str::to_owned).collect())?;
    }
    Ok(())
}

fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty | DataRef::Error(_) => String::new(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::String(s) => s.clone(),
        DataRef::Int(i) => i.to_string(),
        #[allow(clippy::cast_possible_truncation)]
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => (*f as i64).to_string(),
        DataRef::DateTime(_) | DataRef::DateTimeIso(_) => {
            cell.as_date().map(|d| d.to_string()).unwrap_or_default()
        }
        other => other.as_string().unwrap_or_default(),
    }
}

/// The first sheet, read cell by cell (the cells come row by row).
fn each_xlsx_row(
    bytes: &[u8],
    visit: &mut dyn FnMut(usize, Vec<String>) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        ApiError::bad_request(
            "unreadable_file",
            format!("the workbook cannot be read: {e}"),
        )
    };
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ApiError::bad_request("empty_file", "the workbook has no sheet"))?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| unreadable(&e))?;
    let mut line: Vec<String> = Vec::new();
    let mut line_row = None;
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
        let (row, column) = cell.get_position();
        if line_row.is_some_and(|current| current != row) {
            visit(row_number(line_row), std::mem::take(&mut line))?;
        }
        line_row = Some(row);
        let column = usize::try_from(column).unwrap_or(usize::MAX);
        if column >= line.len() {
            // Beyond the last template column nothing is read; the cap keeps a crafted
            // workbook from making one row huge.
            if column >= COLUMNS.len() + 64 {
                continue;
            }
            line.resize(column + 1, String::new());
        }
        line[column] = cell_text(cell.get_value());
    }
    if line_row.is_some() {
        visit(row_number(line_row), line)?;
    }
    Ok(())
}

/// A sheet's zero-based row index as the row number people see.
fn row_number(row: Option<u32>) -> usize {
    row.and_then(|r| usize::try_from(r).ok()).unwrap_or(0) + 1
}

/// The column keys of a header row; fails when a required column is missing.
fn column_keys(header: &[String]) -> Result<Vec<Option<&'static str>>, ApiError> {
    let keys: Vec<Option<&'static str>> = header
        .iter()
        .map(|title| {
            let title = title.trim();
            COLUMNS
                .iter()
                .find(|c| c.header == title || c.key.eq_ignore_ascii_case(title))
                .map(|c| c.key)
        })
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| c.required && !keys.contains(&Some(c.key)))
        .map(|c| c.header)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(
            "template_mismatch",
            format!("required columns are missing: {}", missing.join(", ")),
        ));
    }
    Ok(keys)
}

fn is_blank(line: &[String]) -> bool {
    line.iter().all(|cell| cell.trim().is_empty())
}

/// Counts the data rows (after the header, blank rows skipped), failing as soon as there are
/// more than `max_rows`: an oversized file is refused before any row is checked.
fn count_rows(bytes: &[u8], max_rows: usize) -> Result<usize, ApiError> {
    let (mut header_seen, mut rows) = (false, 0);
    each_row(bytes, &mut |_, line| {
        if !header_seen {
            header_seen = true;
        } else if !is_blank(&line) {
            rows += 1;
            if rows > max_rows {
                return Err(ApiError::bad_request(
                    "too_many_rows",
                    format!("an import takes at most {max_rows} rows"),
                ));
            }
        }
        Ok(())
    })?;
    if header_seen {
        Ok(rows)
    } else {
        Err(ApiError::bad_request(
            "empty_file",
            "the file has no header row",
        ))
    }
}

/// Turns one row into a create request; column errors are added to `errors`.
fn row_request(
    row: &HashMap<&'static str, String>,
    unit_ids: &HashMap<String, Vec<i64>>,
    errors: &mut BTreeMap<String, Vec<String>>,
) -> Option<CreateCadreRequest> {
    let mut fail = |field: &str, rule: &str| {
        errors
            .entry(field.to_owned())
            .or_default()
            .push(rule.to_owned())
    };
    let text = |key: &str| row.get(key).cloned();
    let mut required = |key: &'static str| {
        let value = text(key);
        if value.is_none() {
            fail(key, "required");
        }
        value
    };
    let name = required("name");
    let gender_text = required("gender");
    let ethnicity_text = required("ethnicity");
    let birth_text = required("birth_date");
    let party_text = required("party");
    let level_text = required("level");
    let date = |value: &str| {
        NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(value, "%Y/%m/%d"))
            .or_else(|_| NaiveDate::parse_from_str(value, "%Y.%m.%d"))
            .or_else(|_| NaiveDate::parse_from_str(value, "%Y%m%d"))
            .ok()
    };
    let gender = gender_text.as_deref().and_then(|g| {
        let parsed = Gender::from_text(g);
        if parsed.is_none() {
            fail("gender", "unknown_value");
        }
        parsed
    });
    let ethnicity = ethnicity_text.as_deref().and_then(|e| {
        let parsed = ethnicity_from_text(e);
        if parsed.is_none() {
            fail("ethnicity", "unknown_ethnicity");
        }
        parsed
    });
    let birth_date = birth_text.as_deref().and_then(|d| {
        let parsed = date(d);
        if parsed.is_none() {
            fail("birth_date", "date_format");
        }
        parsed
    });
    let party = party_text.as_deref().and_then(|p| {
        let parsed = Party::from_text(p);
        if parsed.is_none() {
            fail("party", "unknown_value");
        }
        parsed
    });
    let level = level_text.as_deref().and_then(|l| {
        let parsed = Level::from_text(l);
        if parsed.is_none() {
            fail("level", "unknown_value");
        }
        parsed
    });
    let party_joined_on = text("party_joined_on").and_then(|d| {
        let parsed = date(&d);
        if parsed.is_none() {
            fail("party_joined_on", "date_format");
        }
        parsed
    });
    let mut categories = Vec::new();
    // Two labels hold `、`, which also separates list items: read them whole first, so that an
    // exported file (labels joined by `；`) imports again.
    let listed = text("categories").map(|listed| {
        Category::ALL
            .iter()
            .filter(|c| c.label().contains('、'))
            .fold(listed, |listed, c| listed.replace(c.label(), c.as_str()))
    });
    for label in listed.map(|c| split_list(&c)).unwrap_or_default() {
        match Category::from_text(&label) {
            Some(c) => categories.push(c),
            None => fail("categories", "unknown_value"),
        }
    }
    let education = text("education").and_then(|e| {
        let parsed = Education::from_text(&e);
        if parsed.is_none() {
            fail("education", "unknown_value");
        }
        parsed
    });
    let degree = text("degree").and_then(|d| {
        let parsed = Degree::from_text(&d);
        if parsed.is_none() {
            fail("degree", "unknown_value");
        }
        parsed
    });
    let unit_id = text("unit").and_then(|u| match unit_ids.get(u.trim()).map(Vec::as_slice) {
        Some([id]) => Some(*id),
        Some(_) => {
            fail("unit", "ambiguous_unit");
            None
        }
        None => {
            fail("unit", "unknown_unit");
            None
        }
    });
    let request = CreateCadreRequest {
        name: name?,
        former_name: text("former_name"),
        gender: gender?,
        ethnicity: ethnicity?.to_owned(),
        birth_date: birth_date?,
        native_place: text("native_place"),
        id_number: text("id_number"),
        phone: text("phone"),
        email: text("email"),
        party: party?,
        party_joined_on,
        categories,
        level: level?,
        unit_id,
        workplace: text("workplace"),
        position: text("position"),
        education,
        degree,
        professional_title: text("professional_title"),
        sectors: text("sectors").map(|s| split_list(&s)).unwrap_or_default(),
        expertise: text("expertise")
            .map(|s| split_list(&s))
            .unwrap_or_default(),
        notes: text("notes"),
    };
    if let Err(e) = request.validate() {
        if let ApiError::Validation { fields } = ApiError::from(e) {
            for (field, rules) in fields {
                errors.entry(field).or_default().extend(rules);
            }
        }
    }
    Some(request)
}

/// Checks every row and writes each valid one in the caller's transaction as it goes, unless
/// `dry_run`; once a row is invalid nothing more is written and the import fails as a whole with
/// every row's errors (the caller's transaction rolls back what was written).
pub fn import(
    conn: &mut DbConn,
    key: &DataKey,
    actor: &Actor,
    bytes: &[u8],
    dry_run: bool,
    limits: ImportLimits,
) -> Result<ImportReport, ApiError> {
    crate::memory::release_free_memory();
    let rows = count_rows(bytes, limits.max_rows)?;
    let mut unit_ids: HashMap<String, Vec<i64>> = HashMap::new();
    let mut unit_names: HashMap<i64, String> = HashMap::new();
    for (id, name) in units::table
        .select((units::id, units::name))
        .load::<(i64, String)>(conn)?
    {
        unit_ids.entry(name.clone()).or_default().push(id);
        unit_names.insert(id, name);
    }
    let mut report = ImportReport {
        dry_run,
        rows,
        valid: 0,
        imported: 0,
        errors: Vec::new(),
    };
    let mut keys = None;
    let mut seen_id_numbers = HashSet::new();
    let mut ids = Vec::new();
    // Valid rows not yet written: they go in together, a statement for many rows.
    let mut pending = Vec::new();
    if !dry_run {
        tallies::pause(conn)?;
    }
    each_row(bytes, &mut |row_number, line| {
        let Some(keys) = keys.as_ref() else {
            keys = Some(column_keys(&line)?);
            return Ok(());
        };
        if is_blank(&line) {
            return Ok(());
        }
        let mut row = HashMap::new();
        for (cell, key) in line.into_iter().zip(keys) {
            if let Some(key) = key {
                let cell = cell.trim();
                if !cell.is_empty() {
                    row.insert(*key, cell.to_owned());
                }
            }
        }
        let mut fields = BTreeMap::new();
        if let Some(request) = row_request(&row, &unit_ids, &mut fields) {
            let mut profile = Profile::from_request(request);
            let unit_name = match service::check_profile_with(&mut profile, |unit_id| {
                Ok(unit_names.get(&unit_id).cloned())
            }) {
                Ok(unit_name) => unit_name,
                Err(ApiError::Validation { fields: broken }) => {
                    for (field, rules) in broken {
                        fields.entry(field).or_default().extend(rules);
                    }
                    None
                }
                Err(other) => return Err(other),
            };
            if let Some(id_number) = profile
                .id_number
                .clone()
                .filter(|_| !fields.contains_key("id_number"))
            {
                if !seen_id_numbers.insert(id_number.clone()) {
                    fields
                        .entry("id_number".into())
                        .or_insert_with(Vec::new)
                        .push("duplicate_in_file".into());
                } else if repo::find_by_id_number_lookup(
                    conn,
                    &key.lookup_hash(ID_NUMBER_LOOKUP, &id_number),
                )?
                .is_some()
                {
                    fields
                        .entry("id_number".into())
                        .or_insert_with(Vec::new)
                        .push("id_number_taken".into());
                }
            }
            if fields.is_empty() {
                report.valid += 1;
                if !dry_run && report.errors.is_empty() {
                    pending.push(NewCadre { profile, unit_name });
                    if pending.len() == service::NEW_CADRES_PER_STATEMENT {
                        ids.extend(service::insert_new(conn, key, &pending)?);
                        pending.clear();
                    }
                }
            }
        }
        if !fields.is_empty() {
            report.errors.push(RowError {
                row: row_number,
                fields,
            });
        }
        Ok(())
    })?;
    if dry_run {
        return Ok(report);
    }
    if !report.errors.is_empty() {
        let mut fields = BTreeMap::new();
        for error in report.errors {
            for (field, rules) in error.fields {
                fields.insert(format!("rows[{}].{field}", error.row), rules);
            }
        }
        return Err(ApiError::Validation { fields });
    }
    ids.extend(service::insert_new(conn, key, &pending)?);
    report.imported = ids.len();
    tallies::count_inserted(conn, &ids)?;
    db::refresh_statistics(conn)?;
    db::merge_search_tables_after_load(conn, ids.len() as u64)?;
    audit::record(
        conn,
        actor,
        Event::about("cadres.imported", "cadre", None)
            // The ids are in the file's order, not in the order they were given (by name).
            .after(json!({"count": ids.len(), "first_id": ids.iter().min(), "last_id": ids.iter().max()})),
    )?;
    Ok(report)
}

/// The template: the header row (Chinese headers); the XLSX has a second sheet explaining each
/// column.
pub fn template(format: FileFormat) -> Result<Vec<u8>, ApiError> {
    let header: Vec<&str> = COLUMNS.iter().map(|c| c.header).collect();
    match format {
        FileFormat::Csv => {
            let mut writer = csv::Writer::from_writer(UTF8_BOM.to_vec());
            writer
                .write_record(&header)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            writer
                .into_inner()
                .map_err(|e| ApiError::internal(e.to_string()))
        }
        FileFormat::Xlsx => {
            let notes: Vec<Vec<String>> = std::iter::once(vec![
                "列".to_owned(),
                "key".to_owned(),
                "必填".to_owned(),
                "说明".to_owned(),
            ])
            .chain(COLUMNS.iter().map(|c| {
                vec![
                    c.header.to_owned(),
                    c.key.to_owned(),
                    if c.required { "是" } else { "" }.to_owned(),
                    c.note.to_owned(),
                ]
            }))
            .collect();
            xlsx_bytes(&[
                (
                    "党外干部",
                    vec![header.iter().map(|s| (*s).to_owned()).collect()],
                ),
                ("说明", notes),
            ])
        }
    }
}

/// Rows an export reads at a time.
const EXPORT_BATCH: i64 = 2_000;

/// Where export rows go as they are read: a temporary file, row by row for CSV; for XLSX a sheet
/// in constant-memory mode (finished rows go to the library's own temporary file), zipped into
/// ours at the end. An export then holds one batch of rows in memory, never every row's cells
/// (an export of 95,000 cadres once peaked at 830 MB of server memory) nor the finished file
/// (25 MB of CSV for 100,000 cadres); the file is sent from disk.
enum ExportSink {
    Csv(Box<csv::Writer<File>>),
    Xlsx(Box<rust_xlsxwriter::Workbook>, u32),
}

/// Leads every CSV we write, so that spreadsheet programs read it as UTF-8.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn file_failed(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("cannot write the export's temporary file: {e}"))
}

fn xlsx_failed(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::internal(format!("cannot write the workbook: {e}"))
}

impl ExportSink {
    fn new(format: FileFormat) -> Result<ExportSink, ApiError> {
        Ok(match format {
            FileFormat::Csv => {
                let mut file = tempfile::tempfile().map_err(file_failed)?;
                file.write_all(UTF8_BOM).map_err(file_failed)?;
                ExportSink::Csv(Box::new(csv::Writer::from_writer(file)))
            }
            FileFormat::Xlsx => {
                let mut workbook = rust_xlsxwriter::Workbook::new();
                workbook
                    .add_worksheet_with_constant_memory()
                    .map_err(xlsx_failed)?
                    .set_name("党外干部")
                    .map_err(xlsx_failed)?;
                ExportSink::Xlsx(Box::new(workbook), 0)
            }
        })
    }

    fn write(&mut self, row: &[String]) -> Result<(), ApiError> {
        match self {
            ExportSink::Csv(writer) => writer
                .write_record(row)
                .map_err(|e| ApiError::internal(e.to_string())),
            ExportSink::Xlsx(workbook, next_row) => {
                let sheet = workbook.worksheet_from_index(0).map_err(xlsx_failed)?;
                for (c, value) in row.iter().enumerate() {
                    let c = u16::try_from(c).unwrap_or(u16::MAX);
                    sheet
                        .write_string(*next_row, c, value)
                        .map_err(xlsx_failed)?;
                }
                *next_row += 1;
                Ok(())
            }
        }
    }

    /// The finished file, read from its start, and its length.
    fn finish(self) -> Result<(File, u64), ApiError> {
        let mut file = match self {
            ExportSink::Csv(writer) => writer
                .into_inner()
                .map_err(|e| file_failed(e.into_error()))?,
            ExportSink::Xlsx(mut workbook, _) => {
                let mut file = tempfile::tempfile().map_err(file_failed)?;
                let mut out = BufWriter::new(&mut file);
                workbook.save_to_writer(&mut out).map_err(xlsx_failed)?;
                out.flush().map_err(file_failed)?;
                drop(out);
                file
            }
        };
        let length = file.stream_position().map_err(file_failed)?;
        file.rewind().map_err(file_failed)?;
        Ok((file, length))
    }
}

fn xlsx_bytes(sheets: &[(&str, Vec<Vec<String>>)]) -> Result<Vec<u8>, ApiError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let failed = xlsx_failed;
    for (name, rows) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*name).map_err(failed)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let (r, c) = (
                    u32::try_from(r).unwrap_or(u32::MAX),
                    u16::try_from(c).unwrap_or(u16::MAX),
                );
                sheet.write_string(r, c, value).map_err(failed)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(failed)
}

/// The column keys an export writes, checked.
pub fn export_columns(fields: Option<&str>) -> Result<Vec<(&'static str, &'static str)>, ApiError> {
    let all = || {
        EXPORT_ONLY
            .iter()
            .copied()
            .chain(COLUMNS.iter().map(|c| (c.key, c.header)))
    };
    match fields {
        None => Ok(all().collect()),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .map(|key| {
                all()
                    .find(|(k, _)| *k == key)
                    .ok_or_else(|| ApiError::field("fields", "unknown_field"))
            })
            .collect(),
    }
}

fn export_value(view: &CadreView, unit_names: &HashMap<i64, String>, key: &str) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match key {
        "id" => view.id.to_string(),
        "age" => view.age.to_string(),
        "status" => view.status_label.to_owned(),
        "name" => view.name.clone(),
        "former_name" => opt(&view.former_name),
        "gender" => view.gender_label.to_owned(),
        "ethnicity" => view.ethnicity_label.to_owned(),
        "birth_date" => view.birth_date.to_string(),
        "native_place" => opt(&view.native_place),
        "id_number" => opt(&view.id_number),
        "phone" => opt(&view.phone),
        "email" => opt(&view.email),
        "party" => view.party_label.to_owned(),
        "party_joined_on" => view
            .party_joined_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        "categories" => view.category_labels.join("；"),
        "level" => view.level_label.to_owned(),
        "unit" => view
            .unit_id
            .and_then(|id| unit_names.get(&id).cloned())
            .unwrap_or_default(),
        "workplace" => opt(&view.workplace),
        "position" => opt(&view.position),
        "education" => view.education_label.unwrap_or_default().to_owned(),
        "degree" => view.degree_label.unwrap_or_default().to_owned(),
        "professional_title" => opt(&view.professional_title),
        "sectors" => view.sectors.join("；"),
        "expertise" => view.expertise.join("；"),
        "notes" => opt(&view.notes),
        _ => String::new(),
    }
}

/// An export's file and the audit event that records it.
pub struct Export {
    /// The finished file at its start: an unnamed temporary file, gone from the disk once closed.
    pub file: File,
    pub length: u64,
    pub format: FileFormat,
    /// Who may later ask who exported what: the filter, the columns, the format and the count.
    pub event: Event,
}

/// The cadres matching the filter as a file (protected fields masked). Only reads: run it in
/// [`db::read_snapshot`] so that its batches see one register, and record `event` before the
/// file is sent. A read does not hold the write queue, so edits go on during an export.
pub fn export(
    conn: &mut DbConn,
    filter: &CadreFilter,
    params: &ExportParams,
) -> Result<Export, ApiError> {
    crate::memory::release_free_memory();
    let columns = export_columns(params.fields.as_deref())?;
    let format = params.format.unwrap_or_default();
    let today = service::today();
    let unit_names: HashMap<i64, String> = units::table
        .select((units::id, units::name))
        .load(conn)?
        .into_iter()
        .collect();
    let mut sink = ExportSink::new(format)?;
    sink.write(
        &columns
            .iter()
            .map(|(_, header)| (*header).to_owned())
            .collect::<Vec<_>>(),
    )?;
    // In batches, in name order, each batch starting past the last row of the one before: the
    // export holds one batch of rows at a time (in one snapshot, so it sees one consistent
    // register).
    let mut after: Option<(String, i64)> = None;
    let mut count = 0;
    loop {
        let query = repo::filtered(filter, today, repo::SearchWith::index_of(conn.engine()))
            .select(super::model::CadreViewRow::as_select())
            .limit(EXPORT_BATCH);
        let rows: Vec<super::model::CadreViewRow> =
            service::keyset_page!(query, cadres::sort_key, after.take(), false).load(conn)?;
        count += rows.len();
        if count > MAX_EXPORT_ROWS {
            return Err(ApiError::bad_request(
                "export_too_large",
                format!("narrow the filter: an export holds at most {MAX_EXPORT_ROWS} cadres"),
            ));
        }
        let last_batch = rows.len() < usize::try_from(EXPORT_BATCH).unwrap_or(usize::MAX);
        after = rows.last().map(|last| (last.sort_key.clone(), last.id));
        for row in rows {
            let view = service::view(row, today)?;
            sink.write(
                &columns
                    .iter()
                    .map(|(key, _)| export_value(&view, &unit_names, key))
                    .collect::<Vec<_>>(),
            )?;
        }
        if last_batch {
            break;
        }
    }
    let (file, length) = sink.finish()?;
    let event = Event::about("cadres.exported", "cadre", None).after(
        json!({"count": count, "filter": filter, "fields": columns.iter().map(|(k, _)| *k).collect::<Vec<_>>(), "format": format}),
    );
    Ok(Export {
        file,
        length,
        format,
        event,
    })
}
