//! Writes the project's historical dataset: `departments.csv`, `jobs.csv`
//! and `employees.csv`, headerless, in dictionary column order.
//!
//! Seeded, so the committed files are reproducible:
//!
//! ```sh
//! cargo run -p api --example generate_data -- data
//! cargo run -p api --example generate_data -- /tmp/big 1000000   # for benchmarks
//! ```
//!
//! About 1% of employee rows are deliberately dirty (a missing field, a date
//! without a zone, an unknown department), so a first start shows the reject
//! log at work.

use std::fmt::Write as _;
use std::path::PathBuf;

const SEED: u64 = 20_210_101;
/// Employees in the committed dataset; a second argument overrides it.
const EMPLOYEES: u32 = 3_000;

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "Legal",
    "Operations",
    "Customer Support",
    "Research and Development",
    "Product Management",
    "Business Development",
    "Supply Chain",
];

const JOBS: &[&str] = &[
    "Software Engineer",
    "Senior Software Engineer",
    "Staff Engineer",
    "Engineering Manager",
    "Data Engineer",
    "Data Analyst",
    "QA Analyst",
    "Site Reliability Engineer",
    "Account Executive",
    "Sales Development Representative",
    "Regional Sales Manager",
    "Marketing Specialist",
    "Content Writer",
    "Brand Manager",
    "Accountant",
    "Financial Analyst",
    "Controller",
    "Recruiter",
    "HR Business Partner",
    "Payroll Specialist",
    "Paralegal",
    "Corporate Counsel",
    "Operations Coordinator",
    "Facilities Manager",
    "Support Agent",
    "Support Team Lead",
    "Research Scientist",
    "Lab Technician",
    "Product Manager",
    "Product Designer",
    "UX Researcher",
    "Partnerships Manager",
    "Buyer",
    "Logistics Planner",
    "Warehouse Supervisor",
    "Chief of Staff",
    "Office Manager",
    "Technical Writer",
    "Security Analyst",
    "Director, Strategy",
];

const FIRST: &[&str] = &[
    "Ada",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustavo",
    "Hana",
    "Ivan",
    "Jana",
    "Kofi",
    "Lucía",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomás",
    "Uma",
    "Véronique",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoë",
    "Ali",
    "Björn",
    "Carmen",
    "Diego",
];

const LAST: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "García",
    "Nakamura",
    "Kowalski",
    "Haddad",
    "Ferreira",
    "Müller",
    "O'Neill",
    "Nguyen",
    "Rossi",
    "Schmidt",
    "Patel",
    "Dubois",
    "Ivanova",
    "Mensah",
    "Novak",
    "Silva",
    "Yılmaz",
    "Andersen",
    "Costa",
    "Moreau",
    "Kaya",
    "Jensen",
    "Ramírez",
];

/// Offsets the dates are written in; all normalise to UTC on load.
const OFFSETS: &[&str] = &[
    "Z", "Z", "Z", "+00:00", "-03:00", "+02:00", "+05:30", "-08:00",
];

/// splitmix64: small, seeded, good enough for sample data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn main() -> std::io::Result<()> {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map_or_else(|| "data".into(), PathBuf::from);
    let employees_wanted: u32 = match std::env::args().nth(2) {
        Some(n) => n
            .parse()
            .map_err(|_| std::io::Error::other(format!("`{n}` is not a count")))?,
        None => EMPLOYEES,
    };
    std::fs::create_dir_all(&out)?;
    let mut rng = Rng(SEED);

    let mut departments = String::new();
    for (i, name) in DEPARTMENTS.iter().enumerate() {
        writeln!(departments, "{},{}", i + 1, quote(name)).unwrap();
    }
    let mut jobs = String::new();
    for (i, name) in JOBS.iter().enumerate() {
        writeln!(jobs, "{},{}", i + 1, quote(name)).unwrap();
    }

    // Departments hire at different rates, so req2 has a clear top half.
    let weights: Vec<usize> = (0..DEPARTMENTS.len()).map(|i| 1 + (i * 7) % 5).collect();
    let total: usize = weights.iter().sum();
    let mut employees = String::with_capacity(employees_wanted as usize * 64);
    for id in 1..=employees_wanted {
        let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
        let mut ticket = rng.below(total);
        let department = weights
            .iter()
            .position(|w| {
                if ticket < *w {
                    true
                } else {
                    ticket -= w;
                    false
                }
            })
            .unwrap()
            + 1;
        let job = rng.below(JOBS.len()) + 1;
        let year = 2020 + rng.below(3);
        let month = 1 + rng.below(12);
        let day = 1 + rng.below(28);
        let (hour, minute, second) = (rng.below(24), rng.below(60), rng.below(60));
        let offset = rng.pick(OFFSETS);
        let date = format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{offset}");
        let row = match rng.below(100) {
            // The dirty 1%: what real exports contain.
            0 => match rng.below(3) {
                0 => format!("{id},{},{date},{department},", quote(&name)),
                1 => format!("{id},{},{},{department},{job}", quote(&name), &date[..19]),
                _ => format!(
                    "{id},{},{date},{},{job}",
                    quote(&name),
                    DEPARTMENTS.len() + 5
                ),
            },
            _ => format!("{id},{},{date},{department},{job}", quote(&name)),
        };
        employees.push_str(&row);
        employees.push('\n');
    }

    std::fs::write(out.join("departments.csv"), departments)?;
    std::fs::write(out.join("jobs.csv"), jobs)?;
    std::fs::write(out.join("employees.csv"), employees)?;
    eprintln!(
        "wrote {} departments, {} jobs, {employees_wanted} employees to {}",
        DEPARTMENTS.len(),
        JOBS.len(),
        out.display()
    );
    Ok(())
}

/// RFC 4180 quoting where a value needs it.
fn quote(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}
