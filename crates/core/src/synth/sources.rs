//! The seven agency systems of the synthetic county: each file's own column
//! headers, identifier scheme, date format and conventions. The manifest written
//! beside the extracts is derived from the same table, so the two always agree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ingest::manifest::{AgencyKind, FieldRole, FileFormat, SourceSpec};

/// What a column of an extract holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    RecordId,
    RowId,
    Given,
    Family,
    BirthDate,
    Sex,
    Ethnicity,
    NhsNumber,
    Upn,
    NiNumber,
    /// A child's record: the first parent's NHS number.
    ParentNhs,
    Address,
    Postcode,
    HouseholdRef,
    EventType,
    EventDate,
    Value,
    /// An extra column, by index into the event's extras.
    Extra(usize),
}

impl Col {
    fn role(self) -> Option<FieldRole> {
        Some(match self {
            Col::RecordId => FieldRole::RecordId,
            Col::RowId => FieldRole::RowId,
            Col::Given => FieldRole::GivenName,
            Col::Family => FieldRole::FamilyName,
            Col::BirthDate => FieldRole::BirthDate,
            Col::Sex => FieldRole::Sex,
            Col::Ethnicity => FieldRole::Ethnicity,
            Col::NhsNumber => FieldRole::NhsNumber,
            Col::Upn => FieldRole::Upn,
            Col::NiNumber => FieldRole::NiNumber,
            Col::ParentNhs => FieldRole::ParentNhsNumber,
            Col::Address => FieldRole::Address,
            Col::Postcode => FieldRole::Postcode,
            Col::HouseholdRef => FieldRole::HouseholdRef,
            Col::EventType => FieldRole::EventType,
            Col::EventDate => FieldRole::EventDate,
            Col::Value => FieldRole::EventValue,
            Col::Extra(_) => return None,
        })
    }
}

/// How a system writes sex.
#[derive(Debug, Clone, Copy)]
pub enum SexStyle {
    /// M / F
    Letter,
    /// Male / Female
    Word,
    /// NHS data dictionary: 1 male, 2 female
    NhsCode,
}

/// One agency system's extract.
#[derive(Debug)]
pub struct SourceDef {
    pub name: &'static str,
    pub agency: AgencyKind,
    pub system: &'static str,
    pub delimiter: u8,
    pub date_format: &'static str,
    pub sex_style: SexStyle,
    /// Police systems hold names and addresses in capitals.
    pub upper_case: bool,
    /// The address column holds the town after the street ("12 Heron Close, Blyth").
    pub address_with_town: bool,
    /// Prefix of the system's own person identifiers.
    pub id_prefix: &'static str,
    /// Share of records where the system holds the NHS number / UPN / NI number at noise 1.
    pub nhs_presence: f64,
    pub upn_presence: f64,
    pub ni_presence: f64,
    pub columns: &'static [(&'static str, Col)],
}

/// Index of the education extract in [`SOURCES`].
pub const EDUCATION: usize = 0;
/// Index of the children's social care extract.
pub const SOCIAL_CARE: usize = 1;
/// Index of the police extract.
pub const POLICE: usize = 2;
/// Index of the health extract.
pub const HEALTH: usize = 3;
/// Index of the housing extract.
pub const HOUSING: usize = 4;
/// Index of the benefits extract.
pub const BENEFITS: usize = 5;
/// Index of the public health extract.
pub const PUBLIC_HEALTH: usize = 6;

/// The seven systems.
pub const SOURCES: [SourceDef; 7] = [
    SourceDef {
        name: "education",
        agency: AgencyKind::Education,
        system: "Pupil database (school census and attendance)",
        delimiter: b',',
        date_format: "%d/%m/%Y",
        sex_style: SexStyle::Letter,
        upper_case: false,
        address_with_town: true,
        id_prefix: "PUP",
        nhs_presence: 0.0,
        upn_presence: 0.97,
        ni_presence: 0.0,
        columns: &[
            ("pupil_id", Col::RecordId),
            ("upn", Col::Upn),
            ("forename", Col::Given),
            ("surname", Col::Family),
            ("dob", Col::BirthDate),
            ("gender", Col::Sex),
            ("ethnicity", Col::Ethnicity),
            ("address", Col::Address),
            ("postcode", Col::Postcode),
            ("school_urn", Col::Extra(0)),
            ("record_type", Col::EventType),
            ("date", Col::EventDate),
            ("value", Col::Value),
        ],
    },
    SourceDef {
        name: "social_care",
        agency: AgencyKind::SocialCare,
        system: "Children's social care case management",
        delimiter: b',',
        date_format: "%d/%m/%Y",
        sex_style: SexStyle::Word,
        upper_case: false,
        address_with_town: false,
        id_prefix: "CSC",
        nhs_presence: 0.6,
        upn_presence: 0.0,
        ni_presence: 0.0,
        columns: &[
            ("child_id", Col::RecordId),
            ("episode_id", Col::RowId),
            ("first_name", Col::Given),
            ("last_name", Col::Family),
            ("date_of_birth", Col::BirthDate),
            ("sex", Col::Sex),
            ("ethnicity_code", Col::Ethnicity),
            ("nhs_no", Col::NhsNumber),
            ("address_line_1", Col::Address),
            ("post_code", Col::Postcode),
            ("episode_type", Col::EventType),
            ("start_date", Col::EventDate),
        ],
    },
    SourceDef {
        name: "police",
        agency: AgencyKind::Police,
        system: "Police records management (persons in incidents)",
        delimiter: b'|',
        date_format: "%d/%m/%Y",
        sex_style: SexStyle::Letter,
        upper_case: true,
        address_with_town: true,
        id_prefix: "N",
        nhs_presence: 0.0,
        upn_presence: 0.0,
        ni_presence: 0.0,
        columns: &[
            ("PERSON_REF", Col::RecordId),
            ("INCIDENT_REF", Col::Extra(0)),
            ("FORENAME", Col::Given),
            ("SURNAME", Col::Family),
            ("DOB", Col::BirthDate),
            ("SEX", Col::Sex),
            ("ADDRESS", Col::Address),
            ("POSTCODE", Col::Postcode),
            ("INCIDENT_TYPE", Col::EventType),
            ("INCIDENT_DATE", Col::EventDate),
            ("ROLE", Col::Extra(1)),
        ],
    },
    SourceDef {
        name: "health",
        agency: AgencyKind::Health,
        system: "Acute and community health (A&E, health visiting)",
        delimiter: b',',
        date_format: "%Y-%m-%d",
        sex_style: SexStyle::NhsCode,
        upper_case: false,
        address_with_town: true,
        id_prefix: "H",
        nhs_presence: 0.88,
        upn_presence: 0.0,
        ni_presence: 0.0,
        columns: &[
            ("hospital_number", Col::RecordId),
            ("attendance_id", Col::RowId),
            ("nhs_number", Col::NhsNumber),
            ("given", Col::Given),
            ("family_name", Col::Family),
            ("birth_date", Col::BirthDate),
            ("gender", Col::Sex),
            ("postcode", Col::Postcode),
            ("mother_nhs_number", Col::ParentNhs),
            ("contact_type", Col::EventType),
            ("contact_date", Col::EventDate),
        ],
    },
    SourceDef {
        name: "housing",
        agency: AgencyKind::Housing,
        system: "Housing management (tenancies, arrears, homelessness)",
        delimiter: b',',
        date_format: "%d/%m/%Y",
        sex_style: SexStyle::Letter,
        upper_case: false,
        address_with_town: true,
        id_prefix: "T",
        nhs_presence: 0.0,
        upn_presence: 0.0,
        ni_presence: 0.6,
        columns: &[
            ("tenant_id", Col::RecordId),
            ("tenancy_ref", Col::HouseholdRef),
            ("forename", Col::Given),
            ("surname", Col::Family),
            ("dob", Col::BirthDate),
            ("ni_number", Col::NiNumber),
            ("address", Col::Address),
            ("postcode", Col::Postcode),
            ("event", Col::EventType),
            ("event_date", Col::EventDate),
            ("amount", Col::Value),
        ],
    },
    SourceDef {
        name: "benefits",
        agency: AgencyKind::Benefits,
        system: "Out-of-work benefits (claims)",
        delimiter: b',',
        date_format: "%d/%m/%Y",
        sex_style: SexStyle::Letter,
        upper_case: false,
        address_with_town: true,
        id_prefix: "CL",
        nhs_presence: 0.0,
        upn_presence: 0.0,
        ni_presence: 0.97,
        columns: &[
            ("claimant_ref", Col::RecordId),
            ("claim_ref", Col::HouseholdRef),
            ("nino", Col::NiNumber),
            ("first_name", Col::Given),
            ("surname", Col::Family),
            ("dob", Col::BirthDate),
            ("postcode", Col::Postcode),
            ("benefit", Col::Extra(0)),
            ("event", Col::EventType),
            ("event_date", Col::EventDate),
        ],
    },
    SourceDef {
        name: "public_health",
        agency: AgencyKind::PublicHealth,
        system: "Public health (NHS Health Checks, children's centres)",
        delimiter: b',',
        date_format: "%d/%m/%Y",
        sex_style: SexStyle::Word,
        upper_case: false,
        address_with_town: true,
        id_prefix: "PH",
        nhs_presence: 0.9,
        upn_presence: 0.0,
        ni_presence: 0.0,
        columns: &[
            ("ph_id", Col::RecordId),
            ("nhs_number", Col::NhsNumber),
            ("forename", Col::Given),
            ("surname", Col::Family),
            ("dob", Col::BirthDate),
            ("sex", Col::Sex),
            ("postcode", Col::Postcode),
            ("activity", Col::EventType),
            ("activity_date", Col::EventDate),
        ],
    },
];

impl SourceDef {
    /// The extract's file name inside `extracts/`.
    pub fn file_name(&self, gzip: bool) -> String {
        if gzip {
            format!("{}.csv.gz", self.name)
        } else {
            format!("{}.csv", self.name)
        }
    }

    /// True when the extract has a row key (which can then be exported twice).
    pub fn has_row_id(&self) -> bool {
        self.columns.iter().any(|(_, col)| *col == Col::RowId)
    }

    /// The header row.
    pub fn headers(&self) -> Vec<&'static str> {
        self.columns.iter().map(|(header, _)| *header).collect()
    }

    /// This extract's entry in the manifest.
    pub fn manifest_entry(&self, gzip: bool) -> SourceSpec {
        let columns: BTreeMap<FieldRole, String> = self
            .columns
            .iter()
            .filter_map(|(header, col)| col.role().map(|role| (role, header.to_string())))
            .collect();
        let keep = self
            .columns
            .iter()
            .filter(|(_, col)| matches!(col, Col::Extra(_)))
            .map(|(header, _)| header.to_string())
            .collect();
        SourceSpec {
            name: self.name.to_string(),
            agency: self.agency,
            system: format!("{} (synthetic)", self.system),
            file: PathBuf::from("extracts").join(self.file_name(gzip)),
            format: FileFormat::Csv,
            sheet: None,
            delimiter: self.delimiter as char,
            date_format: self.date_format.to_string(),
            columns,
            keep,
            event_type: None,
            unreadable: Default::default(),
        }
    }
}
