//! The sign-in screen. (Which views each role may open is `View::capability`,
//! asked of the access policy, `access::Role::may`.) A database with users
//! (`zonewise user add`) asks who is there before showing anything; one without
//! (the sample county, a new council's first load) runs as the local analyst.

use egui::RichText;

/// What is typed on the sign-in screen, and why the last attempt failed.
#[derive(Debug, Default)]
pub struct LoginState {
    pub user: String,
    pub password: String,
    pub error: Option<String>,
}

/// Width of the form's two columns (labels and 220-point fields), for centring it.
const FORM_WIDTH: f32 = 310.0;

/// Draws the sign-in form; true when the user asked to sign in.
pub fn login_ui(ui: &mut egui::Ui, state: &mut LoginState) -> bool {
    let mut submit = false;
    ui.vertical_centered(|ui| {
        ui.add_space(80.0);
        ui.heading("Sign in to Zonewise");
        ui.label(
            RichText::new("Children's records shared between agencies: what you open is recorded.")
                .weak(),
        );
        ui.add_space(16.0);
        // A grid lays out from the left: centre it by hand under the heading.
        ui.horizontal(|ui| {
            ui.add_space(((ui.available_width() - FORM_WIDTH) / 2.0).max(0.0));
            egui::Grid::new("login_grid")
                .num_columns(2)
                .spacing([12.0, 8.0])
                .show(ui, |ui| {
                    ui.label("User name");
                    ui.add(egui::TextEdit::singleline(&mut state.user).desired_width(220.0));
                    ui.end_row();
                    ui.label("Password");
                    let password = ui.add(
                        egui::TextEdit::singleline(&mut state.password)
                            .password(true)
                            .desired_width(220.0),
                    );
                    if password.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        submit = true;
                    }
                    ui.end_row();
                });
        });
        ui.add_space(8.0);
        let ready = !state.user.trim().is_empty() && !state.password.is_empty();
        if ui
            .add_enabled(ready, egui::Button::new("Sign in"))
            .clicked()
        {
            submit = true;
        }
        if let Some(error) = &state.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    });
    submit && !state.user.trim().is_empty() && !state.password.is_empty()
}
