//! The desktop interface: an application shell with one module per view.
//! Each view (`views` registers them) is a `desk::Screen`: it reads the parts of
//! the data it shows (`figures`), draws them, and runs its actions as jobs
//! (`jobs`) whose results come back to it.

pub mod app;
pub mod audit_view;
pub mod data_view;
pub mod desk;
pub mod families_view;
pub mod figures;
pub mod jobs;
pub mod linkage_view;
pub mod login;
pub mod map_geometry;
pub mod map_view;
pub mod models_view;
pub mod new_database;
pub mod overview;
pub mod results_view;
pub mod round_table;
pub mod screenshot;
pub mod settings;
pub mod users_view;
pub mod views;
pub mod widgets;

pub use app::{DatabaseChoice, ZonewiseApp};
pub use data_view::{ImportMessage, SAMPLE_IMPORT_REFUSAL};
pub use desk::{Desk, Screen};
pub use linkage_view::{LinkageAction, LinkageState, LinkageTab};
pub use views::View;

/// Opens the Zonewise window and runs until it is closed. The window's size
/// and place and the app's settings are kept between sessions, except for a
/// screenshot, which starts from nothing remembered and keeps nothing.
pub fn run_window(mut app: ZonewiseApp) -> anyhow::Result<()> {
    let screenshot = app.is_screenshot();
    // A screenshot's storage is a folder of its own, removed when it is done.
    let scratch = screenshot.then(tempfile::tempdir).transpose()?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Zonewise")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([900.0, 600.0])
            .with_icon(app_icon()),
        renderer: eframe::Renderer::Glow,
        persist_window: !screenshot,
        persistence_path: scratch.as_ref().map(|dir| dir.path().join("app.ron")),
        ..Default::default()
    };
    eframe::run_native(
        "Zonewise",
        options,
        Box::new(|creation| {
            creation.egui_ctx.set_theme(egui::Theme::Light);
            app.restore(settings::Settings::load(creation.storage));
            Ok(Box::new(app))
        }),
    )
    .map_err(|error| anyhow::anyhow!("cannot open the window: {error}"))
}

/// The window icon, from `assets/icon.png` (compiled in so the binary stands alone).
fn app_icon() -> egui::IconData {
    const ICON_PNG: &[u8] = include_bytes!("../../assets/icon.png");
    match image::load_from_memory(ICON_PNG) {
        Ok(image) => {
            let rgba = image.to_rgba8();
            egui::IconData {
                width: rgba.width(),
                height: rgba.height(),
                rgba: rgba.into_raw(),
            }
        }
        // A missing icon is cosmetic: the window opens with the system's default.
        Err(_) => egui::IconData::default(),
    }
}
