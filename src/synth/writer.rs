//! Writes events as rows of each agency's extract, through each system's own noisy
//! view of the person, and writes the ground truth beside them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use flate2::{Compression, GzBuilder};
use rand::Rng;

use super::SynthError;
use super::events::{Event, Outcome};
use super::geography::{Lsoa, Zone};
use super::noise::{self, chance, rates};
use super::population::{Family, Person};
use super::sources::{Col, SOURCES, SexStyle, SourceDef};
use super::timeline::EXTRACT_DATE;

type CsvOut = csv::Writer<Box<dyn Write>>;

/// A system's view of one person: the identity it recorded, with its own noise.
struct View {
    record_id: String,
    given: String,
    family: String,
    birth_date: Option<NaiveDate>,
    postcode_missing: bool,
    stale_address: bool,
    nhs_number: Option<String>,
    upn: Option<String>,
    ni_number: Option<String>,
    /// A second record of the same person in the same system, used from a date on.
    duplicate: Option<(NaiveDate, Box<View>)>,
}

/// Open output files and the per-source identifier counters.
pub struct Outputs {
    extracts: Vec<(PathBuf, CsvOut)>,
    records: (PathBuf, CsvOut),
    people: (PathBuf, CsvOut),
    families: (PathBuf, CsvOut),
    outcomes: (PathBuf, CsvOut),
    next_id: [u64; SOURCES.len()],
    id_offset: [u64; SOURCES.len()],
    next_row: u64,
    noise: f64,
    /// Rows written per source.
    pub rows: [usize; SOURCES.len()],
}

fn open(path: PathBuf, gzip: bool, delimiter: u8) -> Result<(PathBuf, CsvOut), SynthError> {
    let file = File::create(&path).map_err(|e| SynthError::write(&path, e))?;
    let sink: Box<dyn Write> = if gzip {
        // A fixed header (no name, mtime 0) keeps the output byte-identical across runs.
        Box::new(GzBuilder::new().write(BufWriter::new(file), Compression::default()))
    } else {
        Box::new(BufWriter::with_capacity(1 << 20, file))
    };
    let writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(sink);
    Ok((path, writer))
}

fn write_row(out: &mut (PathBuf, CsvOut), fields: &[&str]) -> Result<(), SynthError> {
    out.1
        .write_record(fields)
        .map_err(|e| SynthError::write(&out.0, e.into()))
}

impl Outputs {
    /// Creates every extract and truth file with its header.
    pub fn create<R: Rng>(
        out_dir: &Path,
        gzip: bool,
        noise: f64,
        rng: &mut R,
    ) -> Result<Outputs, SynthError> {
        let ext = if gzip { "csv.gz" } else { "csv" };
        let mut extracts = Vec::with_capacity(SOURCES.len());
        for source in &SOURCES {
            let mut out = open(
                out_dir.join("extracts").join(source.file_name(gzip)),
                gzip,
                source.delimiter,
            )?;
            write_row(&mut out, &source.headers())?;
            extracts.push(out);
        }
        let truth = out_dir.join("truth");
        let mut records = open(truth.join(format!("records.{ext}")), gzip, b',')?;
        write_row(
            &mut records,
            &["source", "record_id", "person_id", "family_id"],
        )?;
        let mut people = open(truth.join(format!("people.{ext}")), gzip, b',')?;
        write_row(
            &mut people,
            &[
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
            ],
        )?;
        let mut families = open(truth.join(format!("families.{ext}")), gzip, b',')?;
        write_row(
            &mut families,
            &[
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
                "moved_on",
            ],
        )?;
        let mut outcomes = open(truth.join(format!("outcomes.{ext}")), gzip, b',')?;
        write_row(
            &mut outcomes,
            &[
                "person_id",
                "family_id",
                "reference_date",
                "outcome",
                "probability",
            ],
        )?;
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
            next_id: [0; SOURCES.len()],
            id_offset,
            next_row: 0,
            noise,
            rows: [0; SOURCES.len()],
        })
    }

    /// A new identifier in a system's scheme: a bijective shuffle of a counter, so ids are
    /// unique but say nothing about order or person.
    fn new_record_id(&mut self, source: usize) -> String {
        self.next_id[source] += 1;
        let number = (self.next_id[source] * 7_919 + self.id_offset[source]) % 10_000_000;
        format!("{}{number:07}", SOURCES[source].id_prefix)
    }

    fn new_view<R: Rng>(
        &mut self,
        rng: &mut R,
        source: usize,
        person: &Person,
        family: &Family,
        first_event: NaiveDate,
    ) -> Result<View, SynthError> {
        let def = &SOURCES[source];
        let noise = self.noise;
        let mut given = person.given.to_string();
        if !person.nicknames.is_empty() && chance(rng, rates::NICKNAME, noise) {
            given = person.nicknames[rng.random_range(0..person.nicknames.len())].to_string();
        }
        if chance(rng, rates::GIVEN_TYPO, noise) {
            given = noise::typo(rng, &given);
        }
        let mut family_name = person.family_name.clone();
        if chance(rng, rates::FAMILY_CHANGE, noise) {
            let other = super::names::draw_surname(rng);
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
            Some(person.birth_date + Duration::days(if rng.random::<bool>() { 1 } else { -1 }))
        } else {
            Some(person.birth_date)
        };
        let present = |rng: &mut R, share: f64, value: &str| {
            (!value.is_empty() && rng.random::<f64>() < share).then(|| value.to_string())
        };
        let record_id = self.new_record_id(source);
        let mut view = View {
            record_id,
            given,
            family: family_name,
            birth_date,
            postcode_missing: chance(rng, rates::POSTCODE_MISSING, noise),
            stale_address: chance(rng, rates::STALE_ADDRESS, noise),
            nhs_number: present(rng, def.nhs_presence, &person.nhs_number),
            upn: present(rng, def.upn_presence, &person.upn),
            ni_number: present(rng, def.ni_presence, &person.ni_number),
            duplicate: None,
        };
        self.record_truth(source, &view.record_id, person, family)?;
        if chance(rng, rates::DUPLICATE, noise) {
            let from = super::timeline::random_date(rng, first_event, EXTRACT_DATE);
            let mut copy = View {
                record_id: self.new_record_id(source),
                given: view.given.clone(),
                family: view.family.clone(),
                birth_date: view.birth_date,
                postcode_missing: view.postcode_missing,
                stale_address: false,
                nhs_number: None,
                upn: view.upn.clone(),
                ni_number: None,
                duplicate: None,
            };
            // The second record is typed in again, often with its own slip.
            if rng.random::<bool>() {
                copy.given = noise::typo(rng, &copy.given);
            } else {
                copy.family = noise::typo(rng, &copy.family);
            }
            self.record_truth(source, &copy.record_id, person, family)?;
            view.duplicate = Some((from, Box::new(copy)));
        }
        Ok(view)
    }

    fn record_truth(
        &mut self,
        source: usize,
        record_id: &str,
        person: &Person,
        family: &Family,
    ) -> Result<(), SynthError> {
        write_row(
            &mut self.records,
            &[SOURCES[source].name, record_id, &person.id, &family.id],
        )
    }

    /// Writes the family's truth rows and every event as an extract row.
    pub fn write_family<R: Rng>(
        &mut self,
        rng: &mut R,
        family: &Family,
        home: (&Lsoa, &Zone),
        events: &[Event],
        outcomes: &[Outcome],
    ) -> Result<(), SynthError> {
        let c = &family.circumstances;
        let bit = |b: bool| if b { "1" } else { "0" };
        let moved = family
            .moved
            .as_ref()
            .map(|(d, _)| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        write_row(
            &mut self.families,
            &[
                &family.id,
                &home.0.code,
                &home.1.id,
                &home.0.imd_decile.to_string(),
                bit(c.worklessness),
                bit(c.domestic_abuse),
                bit(c.mental_health),
                bit(c.substance_misuse),
                bit(c.housing_insecurity),
                &format!("{:.4}", family.vulnerability),
                &moved,
            ],
        )?;
        for person in &family.members {
            write_row(
                &mut self.people,
                &[
                    &person.id,
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
                ],
            )?;
        }
        for outcome in outcomes {
            write_row(
                &mut self.outcomes,
                &[
                    &family.members[outcome.person].id,
                    &family.id,
                    &outcome.reference_date.format("%Y-%m-%d").to_string(),
                    bit(outcome.escalated),
                    &format!("{:.5}", outcome.probability),
                ],
            )?;
        }
        let mut views: Vec<[Option<View>; SOURCES.len()]> = (0..family.members.len())
            .map(|_| Default::default())
            .collect();
        for event in events {
            if views[event.person][event.source].is_none() {
                let first = events
                    .iter()
                    .filter(|e| e.person == event.person && e.source == event.source)
                    .map(|e| e.date)
                    .min()
                    .unwrap_or(event.date);
                let view = self.new_view(
                    rng,
                    event.source,
                    &family.members[event.person],
                    family,
                    first,
                )?;
                views[event.person][event.source] = Some(view);
            }
            let Some(view) = views[event.person][event.source].as_ref() else {
                continue;
            };
            let view = match &view.duplicate {
                Some((from, copy)) if event.date >= *from => copy.as_ref(),
                _ => view,
            };
            let row = self.format_row(
                rng,
                &SOURCES[event.source],
                view,
                &family.members[event.person],
                family,
                event,
            );
            let fields: Vec<&str> = row.iter().map(String::as_str).collect();
            write_row(&mut self.extracts[event.source], &fields)?;
            self.rows[event.source] += 1;
            // Now and then a row is entered twice: same key, as real extracts have.
            if row_has_key(&SOURCES[event.source]) && chance(rng, 0.005, self.noise) {
                write_row(&mut self.extracts[event.source], &fields)?;
                self.rows[event.source] += 1;
            }
        }
        Ok(())
    }

    fn format_row<R: Rng>(
        &mut self,
        rng: &mut R,
        def: &SourceDef,
        view: &View,
        person: &Person,
        family: &Family,
        event: &Event,
    ) -> Vec<String> {
        let address = if view.stale_address {
            &family.first_address
        } else {
            family.address_on(event.date)
        };
        let mut given = view.given.clone();
        let mut family_name = view.family.clone();
        if def.upper_case_names {
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
        def.columns
            .iter()
            .map(|(_, col)| match col {
                Col::RecordId => view.record_id.clone(),
                Col::RowId => format!("R{:09}", self.next_row),
                Col::Given => given.clone(),
                Col::Family => family_name.clone(),
                Col::BirthDate => view
                    .birth_date
                    .map(|d| d.format(def.date_format).to_string())
                    .unwrap_or_default(),
                Col::Sex => sex_text(def.sex_style, person.female).to_string(),
                Col::Ethnicity => person.ethnicity.to_string(),
                Col::NhsNumber => view.nhs_number.clone().unwrap_or_default(),
                Col::Upn => view.upn.clone().unwrap_or_default(),
                Col::NiNumber => view.ni_number.clone().unwrap_or_default(),
                Col::Address => format!("{}, {}", address.line, address.town),
                Col::Postcode => {
                    if view.postcode_missing {
                        String::new()
                    } else {
                        address.postcode.clone()
                    }
                }
                Col::HouseholdRef => event.household_ref.clone().unwrap_or_default(),
                Col::EventType => event.event_type.to_string(),
                Col::EventDate => event.date.format(def.date_format).to_string(),
                Col::Value => event.value.map(|v| format!("{v}")).unwrap_or_default(),
                Col::Extra(index) => event.extra.get(*index).cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// Flushes and closes every file.
    pub fn finish(self) -> Result<(), SynthError> {
        let all = self.extracts.into_iter().chain([
            self.records,
            self.people,
            self.families,
            self.outcomes,
        ]);
        for (path, writer) in all {
            let mut sink = writer
                .into_inner()
                .map_err(|e| SynthError::write(&path, e.into_error()))?;
            sink.flush().map_err(|e| SynthError::write(&path, e))?;
            // Dropping the gzip encoder writes its trailer; flush above surfaced any error first.
            drop(sink);
        }
        Ok(())
    }
}

fn row_has_key(def: &SourceDef) -> bool {
    def.columns.iter().any(|(_, col)| *col == Col::RowId)
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
