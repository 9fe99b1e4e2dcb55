//! Writes events as rows of each agency's extract, through each system's own noisy
//! view of the person, and writes the ground truth beside them. Rows are streamed
//! family by family; nothing but the current family is held in memory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono::format::{Item, StrftimeItems};
use rand::Rng;

use super::SynthError;
use super::events::{Event, Outcome};
use super::geography::Geography;
use super::months::{self, Month, Planter};
use super::noise::{self, chance, presence, rates};
use super::population::{Address, Family, Person, Role};
use super::sink::Sink;
use super::sources::{Col, SOURCES, SexStyle, SourceDef};

/// One open CSV file and its path (for messages).
pub(super) struct Output {
    path: PathBuf,
    writer: csv::Writer<Sink>,
}

impl Output {
    pub(super) fn create(path: PathBuf, gzip: bool, delimiter: u8) -> Result<Output, SynthError> {
        let sink = Sink::create(&path, gzip).map_err(|e| SynthError::write(&path, e))?;
        let writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(sink);
        Ok(Output { path, writer })
    }

    pub(super) fn row<I, T>(&mut self, fields: I) -> Result<(), SynthError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(fields)
            .map_err(|e| SynthError::write(&self.path, e.into()))
    }

    fn record(&mut self, record: &csv::ByteRecord) -> Result<(), SynthError> {
        self.writer
            .write_byte_record(record)
            .map_err(|e| SynthError::write(&self.path, e.into()))
    }

    pub(super) fn finish(self) -> Result<(), SynthError> {
        let path = self.path;
        let sink = self
            .writer
            .into_inner()
            .map_err(|e| SynthError::write(&path, e.into_error()))?;
        sink.finish().map_err(|e| SynthError::write(&path, e))
    }
}

/// A system's view of one person: the identity it recorded, with its own noise.
#[derive(Clone)]
struct View {
    record_id: String,
    given: String,
    family: String,
    birth_date: Option<NaiveDate>,
    sex_missing: bool,
    ethnicity_missing: bool,
    postcode_missing: bool,
    postcode_reformatted: Option<bool>,
    abbreviated: bool,
    /// The system kept the address it had when the person first appeared.
    frozen_address: Option<Address>,
    nhs_number: Option<String>,
    upn: Option<String>,
    ni_number: Option<String>,
    /// For a child, the first parent's NHS number, where the system recorded it.
    parent_nhs: Option<String>,
}

/// Share of child records holding the parent's NHS number where the system has the
/// column (child health records usually do; older ones and transfers often do not).
const PARENT_NHS_PRESENCE: f64 = 0.7;

/// The truth files' headers.
pub const PEOPLE_HEADER: [&str; 13] = [
    "person_id",
    "family_id",
    "role",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "ethnicity",
    "nhs_number",
    "upn",
    "ni_number",
    "former_family_name",
    "name_changed_on",
];

/// Header of truth/families.csv; the five circumstances sit between `imd_decile` and `vulnerability`.
pub const FAMILIES_HEADER: [&str; 12] = [
    "family_id",
    "lsoa11cd",
    "zone_id",
    "imd_decile",
    "worklessness",
    "domestic_abuse",
    "mental_health",
    "substance_misuse",
    "housing_insecurity",
    "vulnerability",
    "moves",
    "first_lsoa11cd",
];

/// Open output files and the per-source identifier counters.
pub struct Outputs {
    extracts: Vec<Output>,
    records: Output,
    people: Output,
    families: Output,
    outcomes: Output,
    date_items: Vec<Vec<Item<'static>>>,
    next_id: [u64; SOURCES.len()],
    id_offset: [u64; SOURCES.len()],
    next_row: u64,
    noise: f64,
    /// Rows written per source.
    pub rows: [usize; SOURCES.len()],
    record: csv::ByteRecord,
    scratch: String,
    /// The earlier months' extracts (`--months`), oldest first.
    months: Vec<Month>,
    /// The changes of household planted between the last two months (with `--months` 2 or more).
    planter: Option<Planter>,
    /// Families written so far.
    families_written: usize,
}

impl Outputs {
    /// Creates every extract and truth file with its header, and each earlier
    /// month's extracts in `months::month_dir` when `months` is more than 1.
    pub fn create<R: Rng>(
        out_dir: &Path,
        gzip: bool,
        noise: f64,
        months: usize,
        rng: &mut R,
    ) -> Result<Outputs, SynthError> {
        let ext = if gzip { "csv.gz" } else { "csv" };
        let open_extracts = |folder: &Path| -> Result<Vec<Output>, SynthError> {
            std::fs::create_dir_all(folder).map_err(|e| SynthError::write(folder, e))?;
            SOURCES
                .iter()
                .map(|source| {
                    let mut out = Output::create(
                        folder.join(source.file_name(gzip)),
                        gzip,
                        source.delimiter,
                    )?;
                    out.row(source.headers())?;
                    Ok(out)
                })
                .collect()
        };
        let extracts = open_extracts(&out_dir.join("extracts"))?;
        let dates = months::extract_dates(months);
        let earlier = dates[..dates.len() - 1]
            .iter()
            .map(|&extract_date| {
                Ok(Month {
                    extract_date,
                    extracts: open_extracts(
                        &months::month_dir(out_dir, extract_date).join("extracts"),
                    )?,
                })
            })
            .collect::<Result<Vec<_>, SynthError>>()?;
        let mut date_items = Vec::with_capacity(SOURCES.len());
        for source in &SOURCES {
            let items = StrftimeItems::new(source.date_format)
                .parse_to_owned()
                .map_err(|e| SynthError::Manifest(format!("{}: {e}", source.name)))?;
            date_items.push(items);
        }
        let truth = out_dir.join("truth");
        let mut records = Output::create(truth.join(format!("records.{ext}")), gzip, b',')?;
        records.row(["source", "record_id", "person_id", "family_id"])?;
        let mut people = Output::create(truth.join(format!("people.{ext}")), gzip, b',')?;
        people.row(PEOPLE_HEADER)?;
        let mut families = Output::create(truth.join(format!("families.{ext}")), gzip, b',')?;
        families.row(FAMILIES_HEADER)?;
        let mut outcomes = Output::create(truth.join(format!("outcomes.{ext}")), gzip, b',')?;
        outcomes.row([
            "person_id",
            "family_id",
            "reference_date",
            "outcome",
            "probability",
        ])?;
        let planter = if earlier.is_empty() {
            None
        } else {
            let mut changes = Output::create(truth.join(format!("changes.{ext}")), gzip, b',')?;
            changes.row(months::CHANGES_HEADER)?;
            Some(Planter::new(changes))
        };
        let mut id_offset = [0; SOURCES.len()];
        for offset in &mut id_offset {
            *offset = rng.random_range(0..10_000_000);
        }
        Ok(Outputs {
            extracts,
            records,
            people,
            families,
            outcomes,
            date_items,
            next_id: [0; SOURCES.len()],
            id_offset,
            next_row: 0,
            noise,
            rows: [0; SOURCES.len()],
            record: csv::ByteRecord::new(),
            scratch: String::new(),
            months: earlier,
            planter,
            families_written: 0,
        })
    }

    /// A new identifier in a system's scheme: a bijective shuffle of a counter, so ids are
    /// unique but say nothing about order or person.
    fn new_record_id(&mut self, source: usize) -> String {
        self.next_id[source] += 1;
        let number = (self.next_id[source] * 7_919 + self.id_offset[source]) % 10_000_000;
        format!("{}{number:07}", SOURCES[source].id_prefix)
    }

    /// How `source` recorded `person` when they first appeared in it on `first_seen`.
    fn new_view<R: Rng>(
        &mut self,
        rng: &mut R,
        source: usize,
        person: &Person,
        family: &Family,
        first_seen: NaiveDate,
    ) -> View {
        let def = &SOURCES[source];
        let noise = self.noise;
        let mut given = person.given.to_string();
        if !person.nicknames.is_empty() && chance(rng, rates::NICKNAME, noise) {
            given = person.nicknames[rng.random_range(0..person.nicknames.len())].to_string();
        }
        if chance(rng, rates::GIVEN_TYPO, noise) {
            given = noise::typo(rng, &given);
        }
        let mut family_name = person.family_name_on(first_seen).to_string();
        if chance(rng, rates::FAMILY_VARIANT, noise) {
            let other = super::names::draw_surname(rng, super::names::NamePool::British);
            family_name = if rng.random::<bool>() {
                format!("{family_name}-{other}")
            } else {
                other.to_string()
            };
        }
        if chance(rng, rates::FAMILY_TYPO, noise) {
            family_name = noise::typo(rng, &family_name);
        }
        let birth_date = if chance(rng, rates::DATE_MISSING, noise) {
            None
        } else if chance(rng, rates::DATE_SWAP, noise) {
            Some(noise::swap_day_month(person.birth_date).unwrap_or(person.birth_date))
        } else if chance(rng, rates::DATE_OFF_BY_ONE, noise) {
            let shift = if rng.random::<bool>() { 1 } else { -1 };
            Some(person.birth_date + chrono::Duration::days(shift))
        } else {
            Some(person.birth_date)
        };
        let held = |rng: &mut R, share: f64, value: &str| {
            (!value.is_empty() && rng.random::<f64>() < presence(share, noise))
                .then(|| value.to_string())
        };
        View {
            record_id: self.new_record_id(source),
            given,
            family: family_name,
            birth_date,
            sex_missing: chance(rng, rates::SEX_MISSING, noise),
            ethnicity_missing: chance(rng, rates::ETHNICITY_MISSING, noise),
            postcode_missing: chance(rng, rates::POSTCODE_MISSING, noise),
            postcode_reformatted: chance(rng, rates::POSTCODE_FORMAT, noise)
                .then(|| rng.random::<bool>()),
            abbreviated: chance(rng, rates::ADDRESS_ABBREVIATED, noise),
            frozen_address: chance(rng, rates::STALE_ADDRESS, noise)
                .then(|| family.address_on(first_seen)),
            nhs_number: held(rng, def.nhs_presence, &person.nhs_number),
            upn: held(rng, def.upn_presence, &person.upn),
            ni_number: held(rng, def.ni_presence, &person.ni_number),
            parent_nhs: match family.members.first() {
                Some(parent) if person.role == Role::Child => {
                    held(rng, PARENT_NHS_PRESENCE, &parent.nhs_number)
                }
                _ => None,
            },
        }
    }

    /// A second record of the same person, keyed in again later: a new id, a slip in
    /// one name, and none of the national identifiers the first record was matched on.
    fn duplicate_view<R: Rng>(&mut self, rng: &mut R, source: usize, first: &View) -> View {
        let mut copy = first.clone();
        copy.record_id = self.new_record_id(source);
        if rng.random::<bool>() {
            copy.given = noise::typo(rng, &copy.given);
        } else {
            copy.family = noise::typo(rng, &copy.family);
        }
        copy.nhs_number = None;
        copy.ni_number = None;
        copy.frozen_address = None;
        copy
    }

    fn record_truth(
        &mut self,
        source: usize,
        record_id: &str,
        person: &Person,
        family: &Family,
    ) -> Result<(), SynthError> {
        self.records.row([
            SOURCES[source].name,
            record_id,
            person.id.as_str(),
            family.id.as_str(),
        ])
    }

    /// Writes the family's truth rows and every event as an extract row; returns
    /// `(source, member, record id)` of each member's first record in each source,
    /// so the round tables' decisions can name the family as a team would.
    pub fn write_family<R: Rng>(
        &mut self,
        rng: &mut R,
        family: &Family,
        geography: &Geography,
        mut events: Vec<Event>,
        outcomes: &[Outcome],
    ) -> Result<Vec<(usize, usize, String)>, SynthError> {
        let mut first_records = Vec::new();
        self.write_truth(family, geography, outcomes)?;
        let change = match &mut self.planter {
            Some(planter) => planter.plan(family, &events)?,
            None => None,
        };
        self.families_written += 1;
        // Each system's rows for a person in date order; the sort is stable, so equal
        // dates keep the order they were generated in.
        events.sort_by_key(|e| (e.source, e.person, e.date));
        let planted =
            change.and_then(|change| months::planted_event(change, &events, self.families_written));
        let mut start = 0;
        while start < events.len() {
            let (source, person_index) = (events[start].source, events[start].person);
            let end = start
                + events[start..]
                    .iter()
                    .take_while(|e| e.source == source && e.person == person_index)
                    .count();
            let person = &family.members[person_index];
            let first = self.new_view(rng, source, person, family, events[start].date);
            self.record_truth(source, &first.record_id, person, family)?;
            first_records.push((source, person_index, first.record_id.clone()));
            // A second record takes over from one of the later events on.
            let duplicate = if end - start >= 2 && chance(rng, rates::DUPLICATE, self.noise) {
                let from = rng.random_range(start + 1..end);
                let copy = self.duplicate_view(rng, source, &first);
                self.record_truth(source, &copy.record_id, person, family)?;
                Some((from, copy))
            } else {
                None
            };
            for (index, event) in events.iter().enumerate().take(end).skip(start) {
                let view = match &duplicate {
                    Some((from, copy)) if index >= *from => copy,
                    _ => &first,
                };
                self.write_event(rng, source, view, person, family, geography, event, false)?;
            }
            start = end;
        }
        if let Some((event, last_month)) = planted {
            // The planted row is the main carer's record of its own in housing: a
            // joint tenant's new record (merge, in the last month), or a duplicate
            // keyed under the wrong tenancy that the last month no longer holds (split).
            let person = &family.members[event.person];
            let view = self.new_view(rng, event.source, person, family, event.date);
            if last_month {
                self.record_truth(event.source, &view.record_id, person, family)?;
            }
            self.write_event(
                rng,
                event.source,
                &view,
                person,
                family,
                geography,
                &event,
                !last_month,
            )?;
        }
        Ok(first_records)
    }

    fn write_truth(
        &mut self,
        family: &Family,
        geography: &Geography,
        outcomes: &[Outcome],
    ) -> Result<(), SynthError> {
        let bit = |b: bool| if b { "1" } else { "0" };
        let current = &geography.lsoas[family.current_address().lsoa];
        let first = &geography.lsoas[family.addresses[0].1.lsoa];
        let zone = &geography.zones[geography.zone_of[family.current_address().lsoa]];
        let flags = family.circumstances.flags();
        let decile = current.imd_decile.to_string();
        let vulnerability = format!("{:.4}", family.vulnerability);
        let moves = (family.addresses.len() - 1).to_string();
        let mut row: Vec<&str> = vec![&family.id, &current.code, &zone.id, &decile];
        row.extend(flags.iter().map(|&f| bit(f)));
        row.extend([vulnerability.as_str(), moves.as_str(), first.code.as_str()]);
        self.families.row(row)?;
        for person in &family.members {
            let (former, changed) = match &person.former_name {
                Some((name, on)) => (name.as_str(), on.format("%Y-%m-%d").to_string()),
                None => ("", String::new()),
            };
            self.people.row([
                person.id.as_str(),
                &family.id,
                person.role.label(),
                person.given,
                &person.family_name,
                &person.birth_date.format("%Y-%m-%d").to_string(),
                if person.female { "F" } else { "M" },
                person.ethnicity,
                &person.nhs_number,
                &person.upn,
                &person.ni_number,
                former,
                &changed,
            ])?;
        }
        for outcome in outcomes {
            self.outcomes.row([
                family.members[outcome.person].id.as_str(),
                &family.id,
                &outcome.reference_date.format("%Y-%m-%d").to_string(),
                bit(outcome.escalated),
                &format!("{:.5}", outcome.probability),
            ])?;
        }
        Ok(())
    }

    /// Writes one row to the last month's extract (unless `earlier_only`) and to
    /// each earlier month's dated after it.
    #[allow(clippy::too_many_arguments)]
    fn write_event<R: Rng>(
        &mut self,
        rng: &mut R,
        source: usize,
        view: &View,
        person: &Person,
        family: &Family,
        geography: &Geography,
        event: &Event,
        earlier_only: bool,
    ) -> Result<(), SynthError> {
        let def = &SOURCES[source];
        let address = view
            .frozen_address
            .unwrap_or_else(|| family.address_on(event.date));
        let mut given = view.given.clone();
        let mut family_name = view.family.clone();
        if def.upper_case {
            given = given.to_uppercase();
            family_name = family_name.to_uppercase();
        }
        if chance(rng, rates::ROW_FORMATTING, self.noise) {
            if rng.random::<bool>() {
                given = noise::reformat(rng, &given);
            } else {
                family_name = noise::reformat(rng, &family_name);
            }
        }
        self.next_row += 1;
        let mut record = std::mem::take(&mut self.record);
        record.clear();
        for (_, col) in def.columns {
            let scratch = &mut self.scratch;
            scratch.clear();
            // Writing to a String cannot fail.
            let _ = match col {
                Col::RecordId => scratch.write_str(&view.record_id),
                Col::RowId => write!(scratch, "R{:09}", self.next_row),
                Col::Given => scratch.write_str(&given),
                Col::Family => scratch.write_str(&family_name),
                Col::BirthDate => match view.birth_date {
                    Some(date) => write!(
                        scratch,
                        "{}",
                        date.format_with_items(self.date_items[source].iter())
                    ),
                    None => Ok(()),
                },
                Col::Sex if view.sex_missing => Ok(()),
                Col::Sex => scratch.write_str(sex_text(def.sex_style, person.female)),
                Col::Ethnicity if view.ethnicity_missing => scratch.write_str("NOBT"),
                Col::Ethnicity => scratch.write_str(person.ethnicity),
                Col::NhsNumber => scratch.write_str(view.nhs_number.as_deref().unwrap_or("")),
                Col::Upn => scratch.write_str(view.upn.as_deref().unwrap_or("")),
                Col::NiNumber => scratch.write_str(view.ni_number.as_deref().unwrap_or("")),
                Col::ParentNhs => scratch.write_str(view.parent_nhs.as_deref().unwrap_or("")),
                Col::Address => write_address(scratch, def, view, geography, address),
                Col::Postcode => {
                    let postcode = &geography.lsoas[address.lsoa].streets[address.street].postcode;
                    match (view.postcode_missing, view.postcode_reformatted) {
                        (true, _) => Ok(()),
                        (false, Some(without_space)) => {
                            scratch.write_str(&noise::reformat_postcode(postcode, without_space))
                        }
                        (false, None) => scratch.write_str(postcode),
                    }
                }
                Col::HouseholdRef => {
                    scratch.write_str(event.household_ref.as_deref().unwrap_or(""))
                }
                Col::EventType => scratch.write_str(event.event_type),
                Col::EventDate => write!(
                    scratch,
                    "{}",
                    event.date.format_with_items(self.date_items[source].iter())
                ),
                Col::Value => match event.value {
                    Some(value) => write!(scratch, "{value}"),
                    None => Ok(()),
                },
                Col::Extra(index) => {
                    scratch.write_str(event.extra.get(*index).map_or("", String::as_str))
                }
            };
            record.push_field(scratch.as_bytes());
        }
        let written = self.write_record(rng, source, &record, event.date, earlier_only);
        self.record = record;
        written
    }

    /// Writes a built row to the last month's extract (unless `earlier_only`) and to
    /// each earlier month's dated after `date`, twice now and then.
    fn write_record<R: Rng>(
        &mut self,
        rng: &mut R,
        source: usize,
        record: &csv::ByteRecord,
        date: NaiveDate,
        earlier_only: bool,
    ) -> Result<(), SynthError> {
        let def = &SOURCES[source];
        if !earlier_only {
            self.extracts[source].record(record)?;
            self.rows[source] += 1;
        }
        // Now and then a row is exported twice: same key, as real extracts have.
        let repeated = def.has_row_id() && chance(rng, rates::ROW_REPEATED, self.noise);
        if repeated && !earlier_only {
            self.rows[source] += 1;
            self.extracts[source].record(record)?;
        }
        for month in self.months.iter_mut().filter(|m| date < m.extract_date) {
            let output = &mut month.extracts[source];
            output.record(record)?;
            if repeated {
                output.record(record)?;
            }
        }
        Ok(())
    }

    /// Flushes and closes every file, waiting for compression to finish.
    pub fn finish(self) -> Result<(), SynthError> {
        let all = self
            .extracts
            .into_iter()
            .chain(self.months.into_iter().flat_map(|m| m.extracts))
            .chain(self.planter.map(Planter::into_output))
            .chain([self.records, self.people, self.families, self.outcomes]);
        // Finish every file even after an error, so no worker is left running.
        let mut first_error = None;
        for output in all {
            if let Err(error) = output.finish() {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The address as the system holds it: "Flat 3, 12 Heron Close, Blyth", with the
/// street kind abbreviated, the town left off, or in capitals as the system does.
fn write_address(
    out: &mut String,
    def: &SourceDef,
    view: &View,
    geography: &Geography,
    address: Address,
) -> std::fmt::Result {
    let lsoa = &geography.lsoas[address.lsoa];
    let street = &lsoa.streets[address.street];
    let start = out.len();
    if let Some(flat) = address.flat {
        write!(out, "Flat {flat}, ")?;
    }
    let name = if view.abbreviated {
        &street.abbreviated
    } else {
        &street.name
    };
    write!(out, "{} {name}", address.number)?;
    if def.address_with_town {
        write!(out, ", {}", lsoa.town)?;
    }
    if def.upper_case {
        let upper = out[start..].to_uppercase();
        out.truncate(start);
        out.push_str(&upper);
    }
    Ok(())
}

fn sex_text(style: SexStyle, female: bool) -> &'static str {
    match (style, female) {
        (SexStyle::Letter, true) => "F",
        (SexStyle::Letter, false) => "M",
        (SexStyle::Word, true) => "Female",
        (SexStyle::Word, false) => "Male",
        (SexStyle::NhsCode, true) => "2",
        (SexStyle::NhsCode, false) => "1",
    }
}
