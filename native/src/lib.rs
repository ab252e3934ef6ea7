//! The Python binding of the native core (`profile_sync_core`): one Kafka value in, the XDM
//! record out, as the Python path (`schemas.avro.EventDecoder`, `mappers.Mapper.map_decoded`,
//! `schemas.xdm` validator, `orjson.dumps`) would produce it, or None to let Python take it.

mod avro;
mod checks;
mod email;
mod events;
mod json;
mod mapping;
mod options;
mod record_id;
mod text;
mod timestamps;

use std::collections::{HashMap, HashSet};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use events::Event;
use mapping::Note;
use options::{is_tenant_id, Options, XDM_GENDERS};

/// (short record type, customer id, is delete, primary ms, secondary ms, entity JSON, notes).
type Outcome = (&'static str, i64, bool, i64, i64, Vec<u8>, Vec<Note>);

fn transform_value(value: &[u8], options: &Options) -> Option<Outcome> {
    match events::read_event(value)? {
        Event::Delete(e) => {
            let d = mapping::map_delete(&e)?;
            let json = json::write_delete(&d);
            Some((
                "CustomerDeleted",
                d.customer_id,
                true,
                d.event_ms,
                d.event_ms,
                json,
                Vec::new(),
            ))
        }
        Event::Upsert(e) => {
            let p = mapping::map_upsert(&e, options)?;
            if !checks::valid_profile(&p, &options.tlds) {
                return None;
            }
            let json =
                json::write_profile(&p, options.audit_field_group, options.tenant_key.as_deref());
            let (primary, secondary) = p.event_order;
            Some((
                p.record_type,
                p.customer_id,
                false,
                primary,
                secondary,
                json,
                p.notes,
            ))
        }
    }
}

fn strings(iterable: &Bound<'_, PyAny>, what: &str) -> PyResult<HashSet<String>> {
    let mut set = HashSet::new();
    for item in iterable.try_iter()? {
        let item = item?;
        let text: String = item
            .extract()
            .map_err(|_| PyValueError::new_err(format!("{what} must be strings")))?;
        set.insert(text);
    }
    Ok(set)
}

/// `schemas.genders.gender_map_by_id`'s rules: integer option ids, XDM gender values.
fn gender_map(mapping: &Bound<'_, PyAny>) -> PyResult<HashMap<i64, String>> {
    let mut map = HashMap::new();
    for item in mapping.call_method0("items")?.try_iter()? {
        let (key, gender): (Bound<'_, PyAny>, String) = item?.extract()?;
        if key.is_instance_of::<pyo3::types::PyBool>() {
            return Err(PyValueError::new_err(
                "gender_map keys must be integer option ids",
            ));
        }
        let id: i64 = key
            .extract()
            .map_err(|_| PyValueError::new_err("gender_map keys must be integer option ids"))?;
        if !XDM_GENDERS.contains(&gender.as_str()) {
            return Err(PyValueError::new_err(format!(
                "gender_map values must be one of {}",
                XDM_GENDERS.join(", ")
            )));
        }
        map.insert(id, gender);
    }
    Ok(map)
}

/// The note strings by `Note` (in `Note::ALL`'s order), from the `notes` mapping of
/// `mappers.notes` constant names to the constants: exactly the four names.
fn note_strings(py: Python<'_>, mapping: &Bound<'_, PyAny>) -> PyResult<[Py<PyString>; 4]> {
    let mut found: [Option<Py<PyString>>; 4] = Default::default();
    for item in mapping.call_method0("items")?.try_iter()? {
        let (key, text): (String, String) = item?
            .extract()
            .map_err(|_| PyValueError::new_err("notes must map names to strings"))?;
        let index = Note::ALL
            .iter()
            .position(|n| n.name() == key)
            .ok_or_else(|| PyValueError::new_err(format!("notes: unknown name {key:?}")))?;
        found[index] = Some(PyString::intern(py, &text).unbind());
    }
    let mut strings = Vec::with_capacity(found.len());
    for (slot, note) in found.into_iter().zip(Note::ALL) {
        let name = note.name();
        strings.push(slot.ok_or_else(|| PyValueError::new_err(format!("notes: {name} missing")))?);
    }
    strings
        .try_into()
        .map_err(|_| PyValueError::new_err("notes: four names expected"))
}

/// The mapping under one set of options; build it once and call `transform` per value.
#[pyclass(frozen, module = "profile_sync_core")]
struct Core {
    options: Options,
    /// The Python strings of the notes, indexed by `Note as usize`: returned as they are.
    notes: [Py<PyString>; 4],
}

#[pymethods]
impl Core {
    #[new]
    #[pyo3(signature = (*, email_identity, gender_map, audit_field_group, tenant_id, subdivisions, tlds, notes))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        email_identity: bool,
        gender_map: &Bound<'_, PyAny>,
        audit_field_group: bool,
        tenant_id: Option<&str>,
        subdivisions: &Bound<'_, PyAny>,
        tlds: &Bound<'_, PyAny>,
        notes: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let tenant_key = match tenant_id {
            Some(id) if is_tenant_id(id) => Some(format!("_{id}")),
            Some(_) => {
                return Err(PyValueError::new_err(
                    "tenant_id must be alphanumeric (underscores allowed)",
                ))
            }
            None => None,
        };
        Ok(Core {
            options: Options {
                email_identity,
                gender_map: self::gender_map(gender_map)?,
                audit_field_group,
                tenant_key,
                subdivisions: strings(subdivisions, "subdivisions")?,
                tlds: strings(tlds, "tlds")?,
            },
            notes: note_strings(py, notes)?,
        })
    }

    /// The record of one Kafka value, or None when Python must take it. Never raises.
    fn transform<'py>(&self, py: Python<'py>, value: &[u8]) -> Option<Bound<'py, PyTuple>> {
        let (record_type, customer_id, is_delete, primary, secondary, json, notes) =
            transform_value(value, &self.options)?;
        let notes = if notes.is_empty() {
            PyTuple::empty(py)
        } else {
            PyTuple::new(py, notes.iter().map(|n| self.notes[*n as usize].bind(py))).ok()?
        };
        let items = (
            PyString::intern(py, record_type),
            customer_id,
            is_delete,
            primary,
            secondary,
            PyBytes::new(py, &json),
            notes,
        );
        // Building a tuple of these values cannot fail short of memory exhaustion; even then
        // the contract is None rather than an exception.
        items.into_pyobject(py).ok()
    }
}

#[pymodule]
fn profile_sync_core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Core>()?;
    let fingerprints = events::FINGERPRINTS
        .iter()
        .map(|fp| PyBytes::new(py, fp))
        .collect::<Vec<_>>();
    m.add("FINGERPRINTS", PyTuple::new(py, fingerprints)?)?;
    Ok(())
}
