//! Users (analysts only): who may sign in, in which role and for which zones, and
//! the forms to add a user, change one, set a new password, disable or enable.
//!
//! The view draws the users and zones its `read` returned; a [`UsersAction`] runs
//! on a worker through `access` (each change in one transaction with its audit
//! entry), which reads the users again.

use std::collections::BTreeSet;

use egui::{Color32, RichText};

use super::desk::{Desk, Screen, waiting_ui};
use super::views::View;
use super::widgets::section_heading_ui;
use crate::access::{NewUser, Role, UserChange, UserRow};

const WARNING: Color32 = Color32::from_rgb(178, 34, 34);

/// Zone check boxes per row: a county has a few dozen zones.
const ZONE_COLUMNS: usize = 3;

/// What the analyst asked the view to do this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum UsersAction {
    None,
    /// Add the user with this password.
    Add(NewUser, String),
    /// Change the named user's role, zones or display name.
    Change(String, UserChange),
    /// Give the named user this new password.
    SetPassword(String, String),
    Disable(String),
    Enable(String),
}

/// The form beside the table: a new user's, or the picked user's.
#[derive(Debug, Clone, PartialEq)]
pub struct UserForm {
    /// The login name; only typed for a new user.
    pub user: String,
    pub display_name: String,
    pub role: Role,
    pub zones: BTreeSet<String>,
    pub password: String,
    pub again: String,
}

impl Default for UserForm {
    fn default() -> UserForm {
        UserForm {
            user: String::new(),
            display_name: String::new(),
            role: Role::ZoneManager,
            zones: BTreeSet::new(),
            password: String::new(),
            again: String::new(),
        }
    }
}

impl UserForm {
    /// The form filled in with `row` as stored.
    fn of(row: &UserRow) -> UserForm {
        UserForm {
            user: row.user.clone(),
            display_name: row.display_name.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::Commissioner),
            zones: row.zones.iter().cloned().collect(),
            ..UserForm::default()
        }
    }

    /// The two password fields agree and are filled in; `Err` says what is wrong.
    fn new_password(&self) -> Result<String, &'static str> {
        if self.password.is_empty() {
            Err("type the password twice")
        } else if self.password != self.again {
            Err("the two passwords differ")
        } else {
            Ok(self.password.clone())
        }
    }
}

/// The view's state: the picked user (none: the new-user form) and its form.
#[derive(Debug, Clone, Default)]
pub struct UsersState {
    pub selected: Option<String>,
    pub form: UserForm,
    /// What the last action did, or why it failed.
    pub message: Option<Result<String, String>>,
}

impl UsersState {
    /// Shows the outcome of the last action; a success clears the typed passwords
    /// and, after adding a user, the new-user form.
    pub fn finished(&mut self, outcome: Result<String, String>) {
        if outcome.is_ok() {
            self.form.password.clear();
            self.form.again.clear();
            if self.selected.is_none() {
                self.form = UserForm::default();
            }
        }
        self.message = Some(outcome);
    }
}

/// The title of the job that saves a change.
const SAVING: &str = "Saving the user change";

impl Screen for UsersState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(data) = &desk.figures.users else {
            return waiting_ui(ui);
        };
        let action = users_ui(ui, &data.users, &data.zones, self, desk.is_busy());
        self.act(action, desk);
    }
}

impl UsersState {
    /// Runs what the analyst asked on a worker ([`apply`]: argon2 hashes a new
    /// password); the outcome and the users as they now are come back to the view.
    pub fn act(&mut self, action: UsersAction, desk: &mut Desk<'_>) {
        if action == UsersAction::None {
            return;
        }
        if !desk.may(View::Users) {
            self.finished(Err(desk.refusal(View::Users)));
            return;
        }
        if desk.is_running(SAVING) {
            return;
        }
        let Some(by) = desk.session().map(|session| session.user.clone()) else {
            return;
        };
        let had_users = desk.requires_login();
        desk.start_on(
            SAVING,
            move |_, conn| apply(conn, &action, &by, had_users),
            |view: &mut UsersState, result, desk| match result {
                Ok((outcome, users)) => {
                    if let Some(data) = &mut desk.figures.users {
                        data.users = users;
                    }
                    view.finished(outcome);
                }
                Err(error) => view.finished(Err(error)),
            },
        );
    }
}

/// What the Users view shows: the users, and the zones they may be given as
/// (id, name) pairs.
#[derive(Debug, Clone, Default)]
pub struct UsersData {
    pub users: Vec<UserRow>,
    pub zones: Vec<(String, String)>,
}

/// Reads the users and the zones (the shell asks only for a role that manages users).
pub fn read(conn: &duckdb::Connection) -> anyhow::Result<UsersData> {
    Ok(UsersData {
        users: crate::access::list_users(conn)?,
        zones: crate::access::zone_choices(conn)?,
    })
}

/// Carries out `action` for the analyst `by` (on a worker: argon2 hashes a new
/// password; each change is one transaction with its audit entry), then reads
/// the users again. The outcome says what was done, or why it was refused;
/// `had_users`: the database had users before, so the first one added says
/// that everyone signs in from now on.
pub fn apply(
    conn: &duckdb::Connection,
    action: &UsersAction,
    by: &str,
    had_users: bool,
) -> anyhow::Result<(Result<String, String>, Vec<UserRow>)> {
    use crate::access;
    let outcome = match action {
        UsersAction::None => Ok(String::new()),
        UsersAction::Add(new, password) => access::add_user(conn, new, password, by)
            .map(|()| format!("Added {} as {}", new.user, role_label(new.role))),
        UsersAction::Change(user, change) => access::change_user(conn, user, change, by)
            .map(|()| format!("Saved the changes to {user}")),
        UsersAction::SetPassword(user, password) => {
            access::reset_password(conn, user, password, by)
                .map(|()| format!("New password set for {user}"))
        }
        UsersAction::Disable(user) => access::disable_user(conn, user, by)
            .map(|()| format!("Disabled {user}: they can no longer sign in")),
        UsersAction::Enable(user) => {
            access::enable_user(conn, user, by).map(|()| format!("{user} may sign in"))
        }
    };
    let outcome = match outcome {
        Ok(done) if !had_users && access::requires_sign_in(conn)? => Ok(format!(
            "{done}. From now on everyone signs in to open this database."
        )),
        Ok(done) => Ok(done),
        Err(error) => Err(error.to_string()),
    };
    Ok((outcome, access::list_users(conn)?))
}

/// How a role is named on screen.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Analyst => "Analyst",
        Role::SeniorManager => "Senior manager",
        Role::ZoneManager => "Zone manager",
        Role::Commissioner => "Commissioner",
        Role::RoundTable => "Round-table screen",
    }
}

/// Draws the view. `zones` are (id, name) pairs; `busy` disables changes while a
/// load or re-cluster is being recorded.
pub fn users_ui(
    ui: &mut egui::Ui,
    users: &[UserRow],
    zones: &[(String, String)],
    state: &mut UsersState,
    busy: bool,
) -> UsersAction {
    section_heading_ui(
        ui,
        "Users",
        "Who may sign in, in which role and for which zones. Every change is recorded in the audit log; \
         users are disabled rather than deleted, because the log names them.",
    );
    if users.is_empty() {
        ui.label(
            RichText::new(
                "No users yet: everyone who opens this database works as the local analyst. \
                 Once a user is added, Zonewise asks everyone to sign in, so add an analyst first.",
            )
            .color(WARNING),
        );
    }
    ui.add_space(6.0);
    let mut action = UsersAction::None;
    egui::ScrollArea::vertical()
        .id_salt("users_scroll")
        .show(ui, |ui| {
            if !users.is_empty() {
                action = users_table_ui(ui, users, zones, state, busy);
                ui.add_space(12.0);
            }
            if ui.button("New user…").clicked() {
                state.selected = None;
                state.form = UserForm::default();
                state.message = None;
            }
            ui.add_space(6.0);
            let picked = state
                .selected
                .as_ref()
                .and_then(|name| users.iter().find(|row| &row.user == name));
            let form_action = egui::Frame::group(ui.style())
                .show(ui, |ui| match picked {
                    Some(row) => change_form_ui(ui, row, zones, state, busy),
                    None => new_user_form_ui(ui, zones, state, busy),
                })
                .inner;
            if form_action != UsersAction::None {
                action = form_action;
            }
            match &state.message {
                Some(Ok(done)) => {
                    ui.label(RichText::new(done).strong());
                }
                Some(Err(error)) => {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
                None => {}
            }
        });
    action
}

fn users_table_ui(
    ui: &mut egui::Ui,
    users: &[UserRow],
    zones: &[(String, String)],
    state: &mut UsersState,
    busy: bool,
) -> UsersAction {
    let mut action = UsersAction::None;
    egui::Grid::new("users_table")
        .striped(true)
        .num_columns(7)
        .spacing([16.0, 6.0])
        .show(ui, |ui| {
            for heading in ["User", "Name", "Role", "Zones", "Status", "Added", ""] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for row in users {
                let picked = state.selected.as_deref() == Some(row.user.as_str());
                if ui.selectable_label(picked, &row.user).clicked() {
                    state.selected = Some(row.user.clone());
                    state.form = UserForm::of(row);
                    state.message = None;
                }
                ui.label(&row.display_name);
                ui.label(match Role::parse(&row.role) {
                    Some(role) => role_label(role),
                    None => row.role.as_str(),
                });
                ui.label(zone_names(&row.zones, zones));
                status_ui(ui, row);
                ui.label(&row.created_at);
                let (label, wanted) = if row.active {
                    ("Disable", UsersAction::Disable(row.user.clone()))
                } else {
                    ("Enable", UsersAction::Enable(row.user.clone()))
                };
                if ui.add_enabled(!busy, egui::Button::new(label)).clicked() {
                    action = wanted;
                }
                ui.end_row();
            }
        });
    action
}

fn status_ui(ui: &mut egui::Ui, row: &UserRow) {
    let status = row.status();
    if !row.active {
        ui.label(RichText::new(status).weak());
    } else if row.minutes_locked.is_some() {
        ui.colored_label(WARNING, status)
            .on_hover_text("Too many wrong passwords. Enabling or a new password unlocks now.");
    } else {
        ui.label(status);
    }
}

/// The zones' names (by id), in the order given.
fn zone_names(ids: &[String], zones: &[(String, String)]) -> String {
    if ids.is_empty() {
        return "all".to_string();
    }
    ids.iter()
        .map(|id| {
            zones
                .iter()
                .find(|(zone, _)| zone == id)
                .map_or(id.as_str(), |(_, name)| name.as_str())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Role and zones fields, shared by both forms.
fn role_and_zones_ui(ui: &mut egui::Ui, form: &mut UserForm, zones: &[(String, String)]) {
    ui.label("Role");
    egui::ComboBox::from_id_salt("user_role")
        .selected_text(role_label(form.role))
        .show_ui(ui, |ui| {
            for role in Role::ALL {
                ui.selectable_value(&mut form.role, role, role_label(role));
            }
        });
    ui.end_row();
    ui.label("Zones");
    ui.vertical(|ui| {
        if form.role.limited_to_zones() {
            ui.label(RichText::new("Sees only these zones' families: pick one at least.").weak());
        } else {
            ui.label(
                RichText::new("This role sees every zone; zones are kept for reference.").weak(),
            );
        }
        egui::Grid::new("zone_choices")
            .num_columns(ZONE_COLUMNS)
            .show(ui, |ui| {
                for (index, (id, name)) in zones.iter().enumerate() {
                    let mut picked = form.zones.contains(id);
                    if ui.checkbox(&mut picked, format!("{name} ({id})")).changed() {
                        if picked {
                            form.zones.insert(id.clone());
                        } else {
                            form.zones.remove(id);
                        }
                    }
                    if index % ZONE_COLUMNS == ZONE_COLUMNS - 1 {
                        ui.end_row();
                    }
                }
            });
    });
    ui.end_row();
}

fn password_fields_ui(ui: &mut egui::Ui, form: &mut UserForm) {
    ui.label("Password");
    ui.add(
        egui::TextEdit::singleline(&mut form.password)
            .password(true)
            .desired_width(220.0),
    );
    ui.end_row();
    ui.label("Again");
    ui.add(
        egui::TextEdit::singleline(&mut form.again)
            .password(true)
            .desired_width(220.0),
    );
    ui.end_row();
}

fn new_user_form_ui(
    ui: &mut egui::Ui,
    zones: &[(String, String)],
    state: &mut UsersState,
    busy: bool,
) -> UsersAction {
    ui.label(RichText::new("Add a user").strong());
    let form = &mut state.form;
    egui::Grid::new("new_user_form")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            ui.label("User name");
            ui.add(egui::TextEdit::singleline(&mut form.user).desired_width(220.0));
            ui.end_row();
            ui.label("Shown as");
            ui.add(egui::TextEdit::singleline(&mut form.display_name).desired_width(220.0));
            ui.end_row();
            role_and_zones_ui(ui, form, zones);
            password_fields_ui(ui, form);
        });
    if !ui
        .add_enabled(!busy, egui::Button::new("Add user"))
        .clicked()
    {
        return UsersAction::None;
    }
    match form.new_password() {
        Ok(password) => UsersAction::Add(
            NewUser {
                user: form.user.trim().to_string(),
                display_name: match form.display_name.trim() {
                    "" => form.user.trim().to_string(),
                    name => name.to_string(),
                },
                role: form.role,
                zones: form.zones.iter().cloned().collect(),
            },
            password,
        ),
        Err(problem) => {
            state.message = Some(Err(problem.to_string()));
            UsersAction::None
        }
    }
}

fn change_form_ui(
    ui: &mut egui::Ui,
    row: &UserRow,
    zones: &[(String, String)],
    state: &mut UsersState,
    busy: bool,
) -> UsersAction {
    ui.label(RichText::new(format!("Change {}", row.user)).strong());
    let form = &mut state.form;
    let mut action = UsersAction::None;
    egui::Grid::new("change_user_form")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            ui.label("Shown as");
            ui.add(egui::TextEdit::singleline(&mut form.display_name).desired_width(220.0));
            ui.end_row();
            role_and_zones_ui(ui, form, zones);
        });
    let stored = UserForm::of(row);
    let changed = form.display_name != stored.display_name
        || form.role != stored.role
        || form.zones != stored.zones;
    if ui
        .add_enabled(!busy && changed, egui::Button::new("Save changes"))
        .clicked()
    {
        action = UsersAction::Change(
            row.user.clone(),
            UserChange {
                role: (form.role != stored.role).then_some(form.role),
                zones: (form.zones != stored.zones).then(|| form.zones.iter().cloned().collect()),
                display_name: (form.display_name != stored.display_name)
                    .then(|| form.display_name.trim().to_string()),
            },
        );
    }
    ui.add_space(10.0);
    ui.label(RichText::new("New password").strong());
    egui::Grid::new("password_form")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| password_fields_ui(ui, form));
    if ui
        .add_enabled(!busy, egui::Button::new("Set password"))
        .clicked()
    {
        match form.new_password() {
            Ok(password) => action = UsersAction::SetPassword(row.user.clone(), password),
            Err(problem) => state.message = Some(Err(problem.to_string())),
        }
    }
    action
}
