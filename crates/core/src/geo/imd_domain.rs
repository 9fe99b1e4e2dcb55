//! The seven domains of the English Indices of Deprivation 2019, whose deciles
//! `ref.lsoa` keeps beside the overall IMD decile: a commissioner sets a
//! service's uptake beside the need it answers (health deprivation for a health
//! check, income for a children's centre) rather than only beside deprivation
//! as a whole.

/// One domain of the IMD 2019.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ImdDomain {
    Income,
    Employment,
    Education,
    Health,
    Crime,
    Housing,
    LivingEnvironment,
}

impl ImdDomain {
    /// Every domain, in the order of the IMD's own tables.
    pub const ALL: [ImdDomain; 7] = [
        ImdDomain::Income,
        ImdDomain::Employment,
        ImdDomain::Education,
        ImdDomain::Health,
        ImdDomain::Crime,
        ImdDomain::Housing,
        ImdDomain::LivingEnvironment,
    ];

    /// The column holding its decile, in the IMD file and in `ref.lsoa`.
    pub fn column(self) -> &'static str {
        match self {
            ImdDomain::Income => "income_decile",
            ImdDomain::Employment => "employment_decile",
            ImdDomain::Education => "education_decile",
            ImdDomain::Health => "health_decile",
            ImdDomain::Crime => "crime_decile",
            ImdDomain::Housing => "housing_services_decile",
            ImdDomain::LivingEnvironment => "living_env_decile",
        }
    }

    /// Its name as the IMD publishes it.
    pub fn label(self) -> &'static str {
        match self {
            ImdDomain::Income => "Income deprivation",
            ImdDomain::Employment => "Employment deprivation",
            ImdDomain::Education => "Education, skills and training deprivation",
            ImdDomain::Health => "Health deprivation and disability",
            ImdDomain::Crime => "Crime",
            ImdDomain::Housing => "Barriers to housing and services",
            ImdDomain::LivingEnvironment => "Living environment deprivation",
        }
    }

    /// Its name inside a sentence ("more deprived in health").
    pub fn short_label(self) -> &'static str {
        match self {
            ImdDomain::Income => "income",
            ImdDomain::Employment => "employment",
            ImdDomain::Education => "education and skills",
            ImdDomain::Health => "health",
            ImdDomain::Crime => "crime",
            ImdDomain::Housing => "access to housing and services",
            ImdDomain::LivingEnvironment => "living environment",
        }
    }

    /// Its place in [`ImdDomain::ALL`].
    pub fn index(self) -> usize {
        ImdDomain::ALL
            .iter()
            .position(|&d| d == self)
            .expect("every domain is in ALL")
    }
}
