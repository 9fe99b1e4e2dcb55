//! Best fit of small areas to larger ones that do not nest exactly: each LSOA goes
//! to the one area (ward, say) that holds its centroid, as the ONS best-fit
//! lookups do (they use population-weighted centroids, which the open data does
//! not carry, so the geometric centroid stands in).
//!
//! A centroid can fall outside its own LSOA (a crescent-shaped area) or in no
//! ward at all (a coastal LSOA whose generalised boundary reaches past the
//! ward's): then a point guaranteed inside the LSOA is tried, and failing that
//! the nearest ward is taken. Which rule placed each LSOA is kept, so that the
//! lookup can say how many were placed only by distance.

use geo::{BoundingRect, Centroid, Contains, Distance, Euclidean, InteriorPoint, Point, Rect};

use super::boundaries::AreaBoundary;

/// How an area was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Its centroid lies in the target (and in the area itself, unless no point
    /// inside the area lies in any target).
    Centroid,
    /// Its centroid lies outside it or in no target; a point inside it lies in the target.
    InteriorPoint,
    /// No point of it tried lies in any target; the target nearest its centroid.
    Nearest,
}

impl Fit {
    /// The name stored in `ref.lsoa_ward.fit`.
    pub fn key(self) -> &'static str {
        match self {
            Fit::Centroid => "centroid",
            Fit::InteriorPoint => "interior_point",
            Fit::Nearest => "nearest",
        }
    }
}

/// For each of `areas`, the index into `targets` of its best fit and how it was
/// found; `None` only when there are no targets (or an area has no points).
pub fn best_fit(areas: &[AreaBoundary], targets: &[AreaBoundary]) -> Vec<Option<(usize, Fit)>> {
    let bounds: Vec<Option<Rect<f64>>> =
        targets.iter().map(|t| t.geometry.bounding_rect()).collect();
    let holding = |point: &Point<f64>| {
        targets.iter().enumerate().position(|(i, target)| {
            bounds[i].is_some_and(|b| b.contains(point)) && target.geometry.contains(point)
        })
    };
    areas
        .iter()
        .map(|area| {
            let centroid = area.geometry.centroid()?;
            if area.geometry.contains(&centroid)
                && let Some(target) = holding(&centroid)
            {
                return Some((target, Fit::Centroid));
            }
            if let Some(inside) = area.geometry.interior_point()
                && let Some(target) = holding(&inside)
            {
                return Some((target, Fit::InteriorPoint));
            }
            if let Some(target) = holding(&centroid) {
                return Some((target, Fit::Centroid));
            }
            targets
                .iter()
                .enumerate()
                .map(|(i, t)| (Euclidean.distance(&t.geometry, &centroid), i))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map(|(_, i)| (i, Fit::Nearest))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, polygon};

    use super::*;

    fn area(code: &str, polygon: geo::Polygon<f64>) -> AreaBoundary {
        AreaBoundary {
            code: code.to_string(),
            name: code.to_string(),
            geometry: MultiPolygon(vec![polygon]),
        }
    }

    fn square(x: f64, y: f64, size: f64) -> geo::Polygon<f64> {
        polygon![(x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size)]
    }

    #[test]
    fn each_area_goes_to_the_target_holding_its_centroid_else_a_point_inside_else_the_nearest() {
        let wards = [
            area("W1", square(0.0, 0.0, 10.0)),
            area("W2", square(10.0, 0.0, 10.0)),
        ];
        // A U shape straddling both wards whose centroid (in W1, outside the U) is
        // not inside it; its interior point lies in the U's base, in W2.
        let u = polygon![
            (x: 8.0, y: 0.0), (x: 19.0, y: 0.0), (x: 19.0, y: 9.0), (x: 18.0, y: 9.0),
            (x: 18.0, y: 1.0), (x: 9.0, y: 1.0), (x: 9.0, y: 9.0), (x: 8.0, y: 9.0)
        ];
        let lsoas = [
            area("A", square(1.0, 1.0, 2.0)),
            area("B", square(12.0, 5.0, 2.0)),
            area("U", u),
            area("Sea", square(30.0, 0.0, 2.0)),
        ];
        let fits = best_fit(&lsoas, &wards);
        assert_eq!(fits[0], Some((0, Fit::Centroid)));
        assert_eq!(fits[1], Some((1, Fit::Centroid)));
        assert_eq!(fits[2].map(|f| f.1), Some(Fit::InteriorPoint));
        let inside = lsoas[2].geometry.interior_point().expect("point");
        assert_eq!(
            fits[2].map(|f| f.0),
            Some(if inside.x() < 10.0 { 0 } else { 1 })
        );
        assert_eq!(fits[3], Some((1, Fit::Nearest)));
        assert!(best_fit(&lsoas, &[]).iter().all(Option::is_none));
    }
}
