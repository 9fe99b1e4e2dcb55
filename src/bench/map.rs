//! `zonewise bench map`: how long the Map view takes to prepare and to draw, for
//! the sample county (649 LSOAs) and for all of England (32,844), with every LSOA
//! on screen.
//!
//! A frame is measured as the CPU does it in the app: the view's code runs in an
//! egui context (moving vertices to the screen, colouring, borders, legend,
//! chart) and egui tessellates the shapes into triangles for the GPU. The GPU's
//! own time is not included (there is none headless). The reference is a frame of
//! the same window showing only the view's heading, in the same process, so the
//! ratio says what the map itself costs.
//!
//! Frames are measured twice: with the camera still (the view may reuse the
//! last frame's mesh) and with the camera moving every frame, panning and
//! zooming in small steps around the whole layer as a user's drag or scroll
//! does, so that every frame moves all of its vertices.

use std::path::Path;
use std::time::Instant;

use crate::geo::england::{ENGLAND_BOUNDARIES, ENGLAND_IMD, england_shapes, shapes_with_deciles};
use crate::geo::lsoa_shapes::LsoaShape;
use crate::report::map::MapFigures;
use crate::ui::map_geometry::MapGeometry;
use crate::ui::map_view::{Camera, ColourBy, MapState, map_ui};

/// The window size frames are drawn at.
const WINDOW: egui::Vec2 = egui::vec2(1280.0, 800.0);

/// The scale of the zoomed-in frames: close enough that the view outlines
/// every LSOA (below 80 metres per point).
const ZOOMED_METRES_PER_POINT: f64 = 40.0;

/// One layer's figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MapBench {
    pub layer: String,
    pub lsoas: usize,
    /// Vertices as published.
    pub vertices: usize,
    /// Vertices drawn at the level of detail the whole layer is shown at.
    pub vertices_drawn: usize,
    pub load_seconds: f64,
    /// Triangulating every level of detail once.
    pub tessellate_seconds: f64,
    /// The first frame (which prepares borders and the drawn level if not already).
    pub first_frame_ms: f64,
    /// Frames with the camera still.
    pub frame_ms_mean: f64,
    pub frame_ms_p95: f64,
    /// Frames with the camera panning or zooming every frame.
    pub moving_frame_ms_mean: f64,
    pub moving_frame_ms_p95: f64,
    /// Moving frames zoomed in to [`ZOOMED_METRES_PER_POINT`] about the middle
    /// LSOA, where each LSOA's outline is drawn too.
    pub zoomed_frame_ms_mean: f64,
    pub zoomed_frame_ms_p95: f64,
    /// A frame of the heading alone, the reference.
    pub reference_frame_ms: f64,
}

/// Runs the benchmark on the county and England layers in `reference_dir`.
pub fn run(reference_dir: &Path, frames: usize) -> anyhow::Result<Vec<MapBench>> {
    let mut results = Vec::new();
    let started = Instant::now();
    let county = county_shapes(reference_dir)?;
    results.push(measure(
        "sample county",
        county,
        started.elapsed().as_secs_f64(),
        frames,
    ));
    let started = Instant::now();
    let england = england_shapes(
        &reference_dir.join(ENGLAND_BOUNDARIES),
        &reference_dir.join(ENGLAND_IMD),
    )?;
    results.push(measure(
        "England",
        england,
        started.elapsed().as_secs_f64(),
        frames,
    ));
    Ok(results)
}

/// The county's LSOAs from its shapefile and IMD table.
fn county_shapes(reference_dir: &Path) -> anyhow::Result<Vec<LsoaShape>> {
    let shp = reference_dir.join(crate::synth::geography::LSOA_SHAPES);
    let areas = crate::geo::boundaries::load_lsoa_boundaries(&shp)?;
    Ok(shapes_with_deciles(
        areas,
        &shp,
        &reference_dir.join(crate::synth::geography::IMD_FILE),
    )?)
}

fn measure(layer: &str, shapes: Vec<LsoaShape>, load_seconds: f64, frames: usize) -> MapBench {
    let vertices = shapes
        .iter()
        .flat_map(|s| &s.geometry.0)
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    let lsoas = shapes.len();
    let started = Instant::now();
    let mut geometry = MapGeometry::new(shapes.iter().map(|s| s.geometry.clone()).collect());
    for level in 0..crate::ui::map_geometry::LOD_TOLERANCES.len() {
        geometry.meshes(level);
    }
    let tessellate_seconds = started.elapsed().as_secs_f64();
    let figures = MapFigures {
        shapes,
        ..MapFigures::default()
    };
    let mut state = MapState::default();
    state.colour_by = ColourBy::Deprivation;
    state.zoom_to = "all".to_string();
    let ctx = egui::Context::default();
    let frame = |draw_map: bool, state: &mut MapState| -> f64 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW)),
            ..Default::default()
        };
        let started = Instant::now();
        let output = ctx.run_ui(input, |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                if draw_map {
                    map_ui(ui, &figures, state);
                } else {
                    crate::ui::widgets::section_heading_ui(ui, "Uptake against deprivation", "");
                }
            });
        });
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        started.elapsed().as_secs_f64() * 1000.0
    };
    let first_frame_ms = frame(true, &mut state);
    let fitted = state.camera;
    let mut times: Vec<f64> = (0..frames).map(|_| frame(true, &mut state)).collect();
    let mut moving: Vec<f64> = (0..frames)
        .map(|index| {
            if let Some(camera) = &mut state.camera {
                move_camera(camera, index);
            }
            frame(true, &mut state)
        })
        .collect();
    // The middle LSOA: the median of their centres, east and north.
    let mut centres: Vec<[f64; 2]> = (0..geometry.len())
        .map(|index| {
            let b = geometry.area_bounds(index);
            [(b[0] + b[2]) as f64 / 2.0, (b[1] + b[3]) as f64 / 2.0]
        })
        .collect();
    let middle = centres.len() / 2;
    centres.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let east = centres[middle][0];
    centres.sort_by(|a, b| a[1].total_cmp(&b[1]));
    state.camera = Some(Camera {
        centre: [east, centres[middle][1]],
        metres_per_point: ZOOMED_METRES_PER_POINT,
    });
    let mut zoomed: Vec<f64> = (0..frames)
        .map(|index| {
            if let Some(camera) = &mut state.camera {
                move_camera(camera, index);
            }
            frame(true, &mut state)
        })
        .collect();
    let reference: Vec<f64> = (0..frames).map(|_| frame(false, &mut state)).collect();
    times.sort_by(f64::total_cmp);
    moving.sort_by(f64::total_cmp);
    zoomed.sort_by(f64::total_cmp);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let p95 = |v: &[f64]| v[(v.len() * 95 / 100).min(v.len().saturating_sub(1))];
    let metres_per_pixel =
        fitted.map_or(1.0, |c| c.metres_per_point) / ctx.pixels_per_point() as f64;
    let level = MapGeometry::level_for(metres_per_pixel);
    let vertices_drawn = geometry.meshes(level).vertex_count();
    MapBench {
        layer: layer.to_string(),
        lsoas,
        vertices,
        vertices_drawn,
        load_seconds,
        tessellate_seconds,
        first_frame_ms,
        frame_ms_mean: mean(&times),
        frame_ms_p95: p95(&times),
        moving_frame_ms_mean: mean(&moving),
        moving_frame_ms_p95: p95(&moving),
        zoomed_frame_ms_mean: mean(&zoomed),
        zoomed_frame_ms_p95: p95(&zoomed),
        reference_frame_ms: mean(&reference),
    }
}

/// Moves `camera` for moving frame `index`: in turn ten steps panning right and
/// down, ten back, ten zooming in by 2% and ten back out, so the camera keeps to
/// the fitted view and the whole layer stays (nearly) on screen.
fn move_camera(camera: &mut Camera, index: usize) {
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW);
    match (index / 10) % 4 {
        0 => camera.pan(egui::vec2(3.0, 2.0)),
        1 => camera.pan(egui::vec2(-3.0, -2.0)),
        2 => camera.zoom_about(screen, screen.center(), 1.02),
        _ => camera.zoom_about(screen, screen.center(), 1.0 / 1.02),
    }
}

/// Command-line settings of `zonewise bench map`.
#[derive(Debug, Clone, clap::Args)]
pub struct MapCommand {
    /// Frames to draw per layer.
    #[arg(long, default_value_t = 100)]
    pub frames: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Reference data folder (county shapefile and IMD, England GeoJSON and IMD).
    #[arg(long = "reference", value_name = "REFERENCE", default_value_os_t = crate::bundled::reference_dir())]
    pub reference_dir: std::path::PathBuf,
}

/// `zonewise bench map`: prints the figures as a table or JSON.
pub fn command(settings: &MapCommand) -> anyhow::Result<()> {
    let results = run(&settings.reference_dir, settings.frames.max(1))?;
    if settings.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    let mut table = crate::format::new_table(&["Measure", "Sample county", "England"]);
    let row = |name: &str, f: &dyn Fn(&MapBench) -> String| {
        let mut cells = vec![name.to_string()];
        cells.extend(results.iter().map(f));
        cells
    };
    let thousands = |n: usize| crate::format::thousands(n as i64);
    table.add_row(row("LSOAs", &|r| thousands(r.lsoas)));
    table.add_row(row("vertices as published", &|r| thousands(r.vertices)));
    table.add_row(row("vertices drawn (whole layer on screen)", &|r| {
        thousands(r.vertices_drawn)
    }));
    table.add_row(row("load and project s", &|r| {
        format!("{:.2}", r.load_seconds)
    }));
    table.add_row(row("tessellate all levels s", &|r| {
        format!("{:.2}", r.tessellate_seconds)
    }));
    table.add_row(row("first frame ms", &|r| {
        format!("{:.1}", r.first_frame_ms)
    }));
    table.add_row(row("still frame ms, mean", &|r| {
        format!("{:.2}", r.frame_ms_mean)
    }));
    table.add_row(row("still frame ms, 95th percentile", &|r| {
        format!("{:.2}", r.frame_ms_p95)
    }));
    table.add_row(row("moving frame ms, mean", &|r| {
        format!("{:.2}", r.moving_frame_ms_mean)
    }));
    table.add_row(row("moving frame ms, 95th percentile", &|r| {
        format!("{:.2}", r.moving_frame_ms_p95)
    }));
    table.add_row(row("zoomed-in moving frame ms, mean", &|r| {
        format!("{:.2}", r.zoomed_frame_ms_mean)
    }));
    table.add_row(row("zoomed-in moving frame ms, 95th percentile", &|r| {
        format!("{:.2}", r.zoomed_frame_ms_p95)
    }));
    table.add_row(row("reference frame ms (heading only)", &|r| {
        format!("{:.3}", r.reference_frame_ms)
    }));
    table.add_row(row("still frame ÷ reference", &|r| {
        format!("{:.0}", r.frame_ms_mean / r.reference_frame_ms.max(1e-9))
    }));
    table.add_row(row("moving frame ÷ reference", &|r| {
        format!(
            "{:.0}",
            r.moving_frame_ms_mean / r.reference_frame_ms.max(1e-9)
        )
    }));
    println!("{table}");
    let frames = settings.frames;
    println!(
        "{frames} still and {frames} moving frames (panning or zooming every frame) of {}×{} points each, every LSOA on screen, coloured by IMD decile, then {frames} moving frames zoomed in to {ZOOMED_METRES_PER_POINT} m per point about the middle LSOA; CPU only (egui layout and tessellation), no GPU.",
        WINDOW.x, WINDOW.y
    );
    Ok(())
}
