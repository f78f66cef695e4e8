//! The CSV export's cells: whatever the text, no place where a spreadsheet could start a cell
//! (the start, or after a separator) begins a formula once neutralised, and the CSV writer
//! gives the neutralised cell back exactly when read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paygate::admin::neutralise;

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
const SEPARATORS: [char; 6] = [',', ';', '|', '\t', '\r', '\n'];

fuzz_target!(|data: &[u8]| {
    let Ok(cell) = std::str::from_utf8(data) else {
        return;
    };
    let safe = neutralise(cell);
    let mut could_start = true;
    for c in safe.chars() {
        assert!(
            !(could_start && FORMULA_STARTS.contains(&c)),
            "{cell:?} -> {safe:?}"
        );
        could_start = SEPARATORS.contains(&c);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([safe.as_ref(), "next"]).unwrap();
    let bytes = writer.into_inner().unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!(&record[0], safe.as_ref());
    assert_eq!(&record[1], "next");
});
