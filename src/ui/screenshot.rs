//! Screenshot mode (`zonewise --screenshot FILE`): once the data is on screen,
//! asks the window for a screenshot, saves it as PNG and closes. This is how the
//! pictures in `docs/screenshots/` are kept current.

use std::path::{Path, PathBuf};

/// Frames to wait after the data is ready, so layout and plots have settled.
const SETTLE_FRAMES: u32 = 5;

/// Progress of one capture.
pub struct Capture {
    path: PathBuf,
    ready_frames: u32,
    requested: bool,
}

impl Capture {
    /// A capture that will be saved to `path`.
    pub fn new(path: PathBuf) -> Capture {
        Capture {
            path,
            ready_frames: 0,
            requested: false,
        }
    }

    /// Called every frame; `ready` once the view shows its data.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui, ready: bool) {
        let ctx = ui.ctx().clone();
        if self.requested {
            return;
        }
        ctx.request_repaint();
        if !ready {
            return;
        }
        self.ready_frames += 1;
        if self.ready_frames < SETTLE_FRAMES {
            return;
        }
        self.requested = true;
        let path = self.path.clone();
        let closer = ctx.clone();
        ctx.request_screenshot(move |image| {
            match save_png(&path, &image) {
                Ok(()) => println!("screenshot saved to {}", path.display()),
                Err(error) => eprintln!("cannot save screenshot {}: {error}", path.display()),
            }
            closer.send_viewport_cmd(egui::ViewportCommand::Close);
        });
    }
}

pub(crate) fn save_png(path: &Path, image: &egui::ColorImage) -> image::ImageResult<()> {
    let [width, height] = image.size;
    let bytes: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|pixel| pixel.to_srgba_unmultiplied())
        .collect();
    image::save_buffer(
        path,
        &bytes,
        width as u32,
        height as u32,
        image::ExtendedColorType::Rgba8,
    )
}
