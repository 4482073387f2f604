//! Turning a compiled Stylus contract into the code nitro accepts, and back.
//!
//! A Stylus program is deployed as ordinary contract code: the 4-byte prefix [`STYLUS_PREFIX`]
//! (`0xEFF00000`, "Stylus, no dictionary") followed by the brotli-compressed WebAssembly module. Before
//! compression the module is *processed*:
//!
//! 1. **Custom sections are dropped** (`name`, `producers`, `target_features`, debug info, ...): they are
//!    user metadata nitro does not need and that would otherwise cost deployment gas.
//! 2. **The module is re-encoded canonically.** rustc ≥ 1.82 enables the reference-types target feature and
//!    writes the table immediate of `call_indirect` as a padded LEB128 (`0x80 0x80 0x80 0x80 0x00`, kept for
//!    the linker's relocations). Nitro validates programs with reference types off, where that immediate must
//!    be the single byte `0x00`; a raw rustc module activates but every call reverts with "reference-types
//!    not enabled: zero byte expected". Re-encoding writes every immediate minimally, so `call_indirect`
//!    gets its single zero byte.
//! 3. **The result is validated** with exactly the rules nitro applies at activation ([`validate_program`]):
//!    the WebAssembly features nitro enables ([`nitro_features`]) and nitro's structural limits ([`limits`]),
//!    so a program nitro would reject (SIMD, threads, reference types, a second memory, a start function,
//!    ...) fails here rather than on chain. The devnode runs the same function when it activates a program.
//!
//! Then the module is compressed with brotli at quality [`BROTLI_QUALITY`] and window [`BROTLI_WINDOW`]
//! (what `cargo stylus` uses) and prefixed. [`decompress_program`] is the inverse, for the devnode.
//!
//! # Why not `stylus-tools`
//!
//! Offchain Labs' `stylus-tools` 0.10.10 (the library behind `cargo stylus`) does the same processing, but:
//! its `strip_user_metadata` and `remove_dangling_references` live in a `pub(crate)` module; its public
//! `core::code::wasm::process_wasm` always appends a `project_hash` custom section (the source hash
//! `cargo stylus verify` checks), which is not ours to fill in; and the crate pulls in about 620 crates
//! (all of alloy, reqwest, tokio, wasmer 3 with cranelift, trybuild, the C brotli library) — a 5-minute,
//! 2.3 GB debug build on a 2-core machine for three functions. So this module does the same steps with
//! the crates `stylus-tools` itself builds on:
//!
//! - `wasmparser` + `wasm-encoder`'s `reencode` feature instead of `cargo stylus`'s
//!   `wasmprinter` → `wat` text round trip: both re-emit every instruction in canonical form; reencoding
//!   skips the text detour and drops custom sections in the same pass.
//! - the pure-Rust `brotli` crate instead of `brotli2` (bindings to the C library): no C toolchain, and
//!   it also decompresses.
//!
//! On the stylus-sdk 0.10.10 counter the processed module is byte-identical to `stylus-tools`' output
//! minus its `project_hash` section. The pure-Rust compressor's output is a valid brotli stream but not the
//! C library's byte for byte: on the same input it was 20 bytes (0.4%) larger. (Code hashes differ from
//! `cargo stylus deploy`'s anyway, because of its `project_hash` section.)

use std::io::{self, Read};

use serde::Serialize;
use thiserror::Error;
use wasm_encoder::reencode::{self, Reencode};
use wasmparser::{
    CustomSectionReader, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
};

/// Prefix of single-chunk Stylus program code: `0xEF 0xF0` (Stylus), version `0x00`, dictionary `0x00`
/// (none).
pub const STYLUS_PREFIX: [u8; 4] = [0xEF, 0xF0, 0x00, 0x00];

/// Largest deployable contract code, prefix included, in bytes: 24 KiB (EIP-170, which Arbitrum keeps for
/// Stylus programs).
pub const MAX_CODE_SIZE: usize = 24 * 1024;

/// Largest processed (decompressed) module nitro activates, in bytes: 128 KiB, nitro's `MaxWasmSize`
/// parameter until ArbOS 60 (which doubles it).
pub const MAX_WASM_SIZE: usize = 128 * 1024;

/// Brotli quality used for Stylus programs (the maximum).
pub const BROTLI_QUALITY: u32 = 11;

/// Brotli window, log2 of bytes (4 MiB).
pub const BROTLI_WINDOW: u32 = 22;

/// A contract ready to deploy: the processed module and the code that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedProgram {
    wasm: Vec<u8>,
    code: Vec<u8>,
    sizes: ProgramSizes,
}

impl PreparedProgram {
    /// The processed module: no custom sections, canonically encoded. This is what nitro activates, and
    /// what [`decompress_program`] returns for [`Self::code`].
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// The deploy code: [`STYLUS_PREFIX`] followed by the brotli-compressed [`Self::wasm`].
    pub fn code(&self) -> &[u8] {
        &self.code
    }

    /// The sizes of the input, the processed module and the deploy code.
    pub fn sizes(&self) -> ProgramSizes {
        self.sizes
    }

    /// Consumes the program, returning the deploy code.
    pub fn into_code(self) -> Vec<u8> {
        self.code
    }

    /// Checks the sizes against the limits nitro enforces ([`MAX_CODE_SIZE`] and [`MAX_WASM_SIZE`]).
    ///
    /// # Errors
    ///
    /// [`WasmError::CodeTooLarge`] if the deploy code exceeds [`MAX_CODE_SIZE`] (such a contract can only
    /// be deployed in fragments); [`WasmError::WasmTooLarge`] if the processed module exceeds
    /// [`MAX_WASM_SIZE`].
    pub fn check_limits(&self) -> Result<(), WasmError> {
        if self.sizes.code > MAX_CODE_SIZE {
            return Err(WasmError::CodeTooLarge {
                size: self.sizes.code,
                limit: MAX_CODE_SIZE,
            });
        }
        if self.sizes.processed > MAX_WASM_SIZE {
            return Err(WasmError::WasmTooLarge {
                size: self.sizes.processed,
                limit: MAX_WASM_SIZE,
            });
        }
        Ok(())
    }
}

/// Sizes of one program at each step, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProgramSizes {
    /// The module as the compiler wrote it.
    pub raw: usize,
    /// The processed module (what nitro activates; bounded by [`MAX_WASM_SIZE`]).
    pub processed: usize,
    /// The deploy code: prefix plus compressed module (bounded by [`MAX_CODE_SIZE`]).
    pub code: usize,
}

impl ProgramSizes {
    /// Bytes left under [`MAX_CODE_SIZE`]; negative when the code is over the limit.
    pub fn code_margin(&self) -> i64 {
        // Cannot overflow: both sizes are lengths of in-memory buffers, far below i64::MAX.
        MAX_CODE_SIZE as i64 - self.code as i64
    }

    /// Whether the deploy code and the processed module are both within nitro's limits.
    pub fn within_limits(&self) -> bool {
        self.code <= MAX_CODE_SIZE && self.processed <= MAX_WASM_SIZE
    }
}

/// Why a program could not be prepared or decompressed.
#[derive(Debug, Error)]
pub enum WasmError {
    /// The input is not a WebAssembly module (bad magic, truncated, malformed section, ...).
    #[error("not a valid WebAssembly module: {0}")]
    Parse(#[source] wasmparser::BinaryReaderError),
    /// The input is a WebAssembly component, not a core module.
    #[error("a WebAssembly component is not a Stylus program: only core modules can be deployed")]
    NotACoreModule,
    /// The module could not be re-encoded.
    #[error("cannot re-encode the WebAssembly module: {0}")]
    Reencode(String),
    /// The processed module is invalid or uses a WebAssembly feature nitro rejects.
    #[error("nitro would reject this module: {0}")]
    Unsupported(#[source] wasmparser::BinaryReaderError),
    /// The module breaks one of nitro's structural rules (see [`validate_program`]).
    #[error("nitro would reject this module: {0}")]
    Rule(#[from] RuleViolation),
    /// Brotli compression failed.
    #[error("brotli compression failed: {0}")]
    Compress(#[source] io::Error),
    /// The deploy code is larger than [`MAX_CODE_SIZE`].
    #[error("deploy code is {size} bytes, over the {limit}-byte limit")]
    CodeTooLarge {
        /// Size of the deploy code, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The processed module is larger than [`MAX_WASM_SIZE`].
    #[error("processed module is {size} bytes, over nitro's {limit}-byte limit")]
    WasmTooLarge {
        /// Size of the processed module, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The code does not start with a Stylus prefix (`0xEFF0`): it is EVM bytecode or garbage.
    #[error("code does not start with the Stylus prefix 0xEFF00000")]
    MissingPrefix,
    /// The code is a Stylus program of another kind: a version other than 0 or a fragment/root contract.
    #[error(
        "unsupported Stylus code version 0x{0:02x} (only single-chunk programs, 0xEFF000, are supported)"
    )]
    UnsupportedVersion(u8),
    /// The code names a brotli dictionary; only "no dictionary" (`0x00`) is supported.
    #[error("unsupported brotli dictionary 0x{0:02x} (only 0x00, no dictionary, is supported)")]
    UnsupportedDictionary(u8),
    /// The compressed payload is not a valid brotli stream.
    #[error("brotli decompression failed: {0}")]
    Decompress(#[source] io::Error),
    /// The payload decompresses to more than the allowed number of bytes.
    #[error("code decompresses to more than {limit} bytes")]
    DecompressedTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// The WebAssembly features nitro enables when it activates a program: mutable globals, saturating
/// float-to-int, sign extension, multi-value, bulk memory and floats. Everything else (reference types
/// and the overlong `call_indirect` immediate, SIMD, threads, tail calls, multi-memory, exceptions,
/// memory64, extended const, function references, GC, the component model) is off.
pub fn nitro_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::FLOATS
}

/// Processes, validates and compresses a compiled contract into deploy code (see the [module
/// docs](self)).
///
/// Sizes are reported, not enforced, so an oversized program can still be measured: call
/// [`PreparedProgram::check_limits`] before deploying.
///
/// # Errors
///
/// [`WasmError::Parse`] / [`WasmError::NotACoreModule`] if `wasm` is not a core WebAssembly module,
/// [`WasmError::Reencode`] if it cannot be re-encoded, [`WasmError::Unsupported`] / [`WasmError::Rule`] if
/// the processed module fails [`validate_program`], [`WasmError::Compress`] if compression fails.
pub fn prepare_program(wasm: &[u8]) -> Result<PreparedProgram, WasmError> {
    let processed = process_wasm(wasm)?;
    validate_program(&processed)?;
    let code = compress_program(&processed)?;
    let sizes = ProgramSizes {
        raw: wasm.len(),
        processed: processed.len(),
        code: code.len(),
    };
    Ok(PreparedProgram {
        wasm: processed,
        code,
        sizes,
    })
}

/// Drops every custom section and re-encodes the module canonically (step 1 and 2 of the [module
/// docs](self)). Does not validate: see [`validate_for_nitro`].
///
/// # Errors
///
/// [`WasmError::Parse`] if `wasm` is not a WebAssembly module, [`WasmError::NotACoreModule`] if it is a
/// component, [`WasmError::Reencode`] if a section cannot be re-encoded.
pub fn process_wasm(wasm: &[u8]) -> Result<Vec<u8>, WasmError> {
    let mut module = wasm_encoder::Module::new();
    // The parser accepts every feature (notably the overlong `call_indirect` immediate): what nitro
    // accepts is checked on the output, by `validate_for_nitro`.
    StripCustomSections
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|error| match error {
            reencode::Error::ParseError(error) => WasmError::Parse(error),
            reencode::Error::UnexpectedNonCoreModuleSection => WasmError::NotACoreModule,
            other => WasmError::Reencode(other.to_string()),
        })?;
    Ok(module.finish())
}

/// Validates a processed module with the WebAssembly features nitro enables ([`nitro_features`]).
///
/// This covers the features and the module's well-formedness, not nitro's own limits (one memory, at most
/// 4,096 functions, the `user_entrypoint` export, ...), which the devnode checks at activation. Raw rustc ≥
/// 1.82 output fails here ("zero byte expected") until [`process_wasm`] has re-encoded it.
///
/// # Errors
///
/// [`WasmError::Unsupported`] with the validator's message and offset.
pub fn validate_for_nitro(wasm: &[u8]) -> Result<(), WasmError> {
    Validator::new_with_features(nitro_features())
        .validate_all(wasm)
        .map_err(WasmError::Unsupported)?;
    Ok(())
}

/// Nitro's structural limits on a program, checked at activation (nitro's `WasmBinary::validate` and
/// `StylusConfig` defaults for ArbOS 32 and later).
pub mod limits {
    /// Largest memory, in 64 KiB pages (nitro's `PageLimit` parameter).
    pub const MAX_PAGES: u64 = 128;
    /// Data segments.
    pub const MAX_DATA_SEGMENTS: usize = 128;
    /// Element segments.
    pub const MAX_ELEMENT_SEGMENTS: usize = 128;
    /// Exports.
    pub const MAX_EXPORTS: usize = 1024;
    /// Functions, imported and defined.
    pub const MAX_FUNCTIONS: usize = 4096;
    /// Globals.
    pub const MAX_GLOBALS: usize = 32_768;
    /// Imports.
    pub const MAX_IMPORTS: usize = 513;
    /// Initial (and declared maximum) table entries, over all tables.
    pub const MAX_TABLE_ENTRIES: u64 = 4096;
    /// Element entries, over all element segments.
    pub const MAX_ELEMENT_ENTRIES: usize = 4096;
    /// Locals of one function, parameters excluded.
    pub const MAX_LOCALS: u64 = 348;
    /// Operators in one function body.
    pub const MAX_OPCODES: usize = 65_536;
    /// Bytes of an import or export name.
    pub const MAX_NAME_BYTES: usize = 512;
}

/// A structural rule of nitro's that a module breaks (see [`validate_program`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleViolation {
    /// The module declares or imports no memory, or more than one.
    #[error("a program must have exactly one memory, this one has {0}")]
    MemoryCount(usize),
    /// The memory is not exported, or not under the name `memory`.
    #[error("the program's memory must be exported as `memory`")]
    MemoryNotExported,
    /// The memory's initial size is over [`limits::MAX_PAGES`].
    #[error("memory of {pages} pages is over the {limit}-page limit")]
    MemoryTooLarge {
        /// Initial pages.
        pages: u64,
        /// The limit, in pages.
        limit: u64,
    },
    /// The module has a start function.
    #[error("a program must not have a start function")]
    StartFunction,
    /// There is no function exported as `user_entrypoint`.
    #[error("a program must export a function `user_entrypoint`")]
    MissingEntrypoint,
    /// `user_entrypoint` is not of type `(i32) -> i32`.
    #[error("`user_entrypoint` must have type (i32) -> i32")]
    EntrypointType,
    /// Too many items of one kind.
    #[error("{count} {what} is over nitro's limit of {limit}")]
    TooMany {
        /// What was counted ("functions", "imports", ...).
        what: &'static str,
        /// How many the module has.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// An import or export name is longer than [`limits::MAX_NAME_BYTES`].
    #[error("name of {len} bytes is over the {limit}-byte limit")]
    NameTooLong {
        /// Length of the name, in bytes.
        len: usize,
        /// The limit, in bytes.
        limit: usize,
    },
}

/// What activation learns about a valid program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramInfo {
    /// Initial memory, in 64 KiB pages: the program's memory footprint, which every call pays for.
    pub footprint: u16,
    /// Functions defined by the module (imports excluded).
    pub functions: usize,
    /// Total operators over all function bodies.
    pub opcodes: usize,
    /// Size of the processed module, in bytes.
    pub wasm_size: usize,
}

fn too_many(what: &'static str, count: u64, limit: u64) -> Result<(), RuleViolation> {
    if count > limit {
        return Err(RuleViolation::TooMany { what, count, limit });
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), RuleViolation> {
    if name.len() > limits::MAX_NAME_BYTES {
        return Err(RuleViolation::NameTooLong {
            len: name.len(),
            limit: limits::MAX_NAME_BYTES,
        });
    }
    Ok(())
}

/// Validates a processed module with every rule nitro applies when it activates a program: the
/// WebAssembly features of [`validate_for_nitro`], then exactly one memory exported as `memory` and within
/// [`limits::MAX_PAGES`], no start function, an export `user_entrypoint` of type `(i32) -> i32`, and the
/// count limits of [`limits`]. The deploy path ([`prepare_program`]) and the devnode's activation both call
/// it, so a program that deploys here also activates on nitro.
///
/// Raw rustc ≥ 1.82 output fails it ("zero byte expected") until [`process_wasm`] has re-encoded it.
///
/// Not checked here: that every import is a host function nitro provides (the devnode checks that when it
/// links the program).
///
/// # Errors
///
/// [`WasmError::Unsupported`] if the module is malformed or uses a feature nitro rejects;
/// [`WasmError::Rule`] with the first structural rule it breaks.
pub fn validate_program(wasm: &[u8]) -> Result<ProgramInfo, WasmError> {
    validate_for_nitro(wasm)?;
    Ok(check_rules(wasm)?)
}

fn check_rules(wasm: &[u8]) -> Result<ProgramInfo, RuleViolation> {
    let mut func_types: Vec<Option<FuncType>> = Vec::new();
    // Type index of every function, imported first.
    let mut function_type_indices: Vec<u32> = Vec::new();
    let mut imports = 0u64;
    let mut memories: Vec<u64> = Vec::new();
    let mut table_entries = 0u64;
    let mut globals = 0u64;
    let mut exports = 0u64;
    let mut memory_exported = false;
    let mut entrypoint: Option<u32> = None;
    let mut element_segments = 0u64;
    let mut element_entries = 0u64;
    let mut data_segments = 0u64;
    let mut defined_functions = 0usize;
    let mut opcodes = 0usize;
    // The module has already been validated: parse errors cannot happen, and are reported as a rule
    // violation of nothing rather than a panic if they ever do.
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.into_iter().flatten() {
                    for sub in group.into_types() {
                        func_types.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(ty) => Some(ty.clone()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports().flatten() {
                    imports += 1;
                    check_name(import.module)?;
                    check_name(import.name)?;
                    match import.ty {
                        TypeRef::Func(index) | TypeRef::FuncExact(index) => function_type_indices.push(index),
                        TypeRef::Memory(memory) => memories.push(memory.initial),
                        TypeRef::Table(table) => table_entries = table_entries.saturating_add(table.initial),
                        TypeRef::Global(_) => globals += 1,
                        TypeRef::Tag(_) => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for index in reader.into_iter().flatten() {
                    function_type_indices.push(index);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader.into_iter().flatten() {
                    table_entries = table_entries.saturating_add(table.ty.initial);
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader.into_iter().flatten() {
                    memories.push(memory.initial);
                }
            }
            Payload::GlobalSection(reader) => globals += u64::from(reader.count()),
            Payload::ExportSection(reader) => {
                for export in reader.into_iter().flatten() {
                    exports += 1;
                    check_name(export.name)?;
                    match (export.name, export.kind) {
                        ("memory", ExternalKind::Memory) => memory_exported = true,
                        ("user_entrypoint", ExternalKind::Func | ExternalKind::FuncExact) => {
                            entrypoint = Some(export.index)
                        }
                        _ => {}
                    }
                }
            }
            Payload::StartSection { .. } => return Err(RuleViolation::StartFunction),
            Payload::ElementSection(reader) => {
                for element in reader.into_iter().flatten() {
                    element_segments += 1;
                    let count = match element.items {
                        wasmparser::ElementItems::Functions(items) => items.count(),
                        wasmparser::ElementItems::Expressions(_, items) => items.count(),
                    };
                    element_entries += u64::from(count);
                }
            }
            Payload::DataSection(reader) => data_segments += u64::from(reader.count()),
            Payload::CodeSectionEntry(body) => {
                defined_functions += 1;
                if let Ok(mut locals) = body.get_locals_reader() {
                    let mut total = 0u64;
                    for _ in 0..locals.get_count() {
                        let Ok((count, _)) = locals.read() else { break };
                        total = total.saturating_add(u64::from(count));
                    }
                    too_many("locals in one function", total, limits::MAX_LOCALS)?;
                }
                if let Ok(mut reader) = body.get_operators_reader() {
                    let mut count = 0usize;
                    while !reader.eof() {
                        if reader.read().is_err() {
                            break;
                        }
                        count += 1;
                    }
                    too_many(
                        "opcodes in one function",
                        count as u64,
                        limits::MAX_OPCODES as u64,
                    )?;
                    opcodes += count;
                }
            }
            _ => {}
        }
    }
    too_many("imports", imports, limits::MAX_IMPORTS as u64)?;
    too_many(
        "functions",
        function_type_indices.len() as u64,
        limits::MAX_FUNCTIONS as u64,
    )?;
    too_many("globals", globals, limits::MAX_GLOBALS as u64)?;
    too_many("exports", exports, limits::MAX_EXPORTS as u64)?;
    too_many("table entries", table_entries, limits::MAX_TABLE_ENTRIES)?;
    too_many(
        "element segments",
        element_segments,
        limits::MAX_ELEMENT_SEGMENTS as u64,
    )?;
    too_many(
        "element entries",
        element_entries,
        limits::MAX_ELEMENT_ENTRIES as u64,
    )?;
    too_many("data segments", data_segments, limits::MAX_DATA_SEGMENTS as u64)?;
    let [pages] = memories[..] else {
        return Err(RuleViolation::MemoryCount(memories.len()));
    };
    if pages > limits::MAX_PAGES {
        return Err(RuleViolation::MemoryTooLarge {
            pages,
            limit: limits::MAX_PAGES,
        });
    }
    if !memory_exported {
        return Err(RuleViolation::MemoryNotExported);
    }
    let entrypoint = entrypoint.ok_or(RuleViolation::MissingEntrypoint)?;
    let ty = function_type_indices
        .get(entrypoint as usize)
        .and_then(|&index| func_types.get(index as usize))
        .and_then(Option::as_ref)
        .ok_or(RuleViolation::EntrypointType)?;
    if ty.params() != [ValType::I32] || ty.results() != [ValType::I32] {
        return Err(RuleViolation::EntrypointType);
    }
    Ok(ProgramInfo {
        // Cannot truncate: pages <= MAX_PAGES (128).
        footprint: pages as u16,
        functions: defined_functions,
        opcodes,
        wasm_size: wasm.len(),
    })
}

/// Brotli-compresses a processed module (quality [`BROTLI_QUALITY`], window [`BROTLI_WINDOW`]) and
/// prefixes it with [`STYLUS_PREFIX`].
///
/// # Errors
///
/// [`WasmError::Compress`] if the compressor fails.
pub fn compress_program(wasm: &[u8]) -> Result<Vec<u8>, WasmError> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        lgwin: BROTLI_WINDOW as i32,
        ..Default::default()
    };
    let mut code = STYLUS_PREFIX.to_vec();
    brotli::BrotliCompress(&mut &wasm[..], &mut code, &params).map_err(WasmError::Compress)?;
    Ok(code)
}

/// Checks the Stylus prefix of deploy code and decompresses it, allowing at most [`MAX_WASM_SIZE`]
/// bytes of output (as nitro does at activation).
///
/// # Errors
///
/// See [`decompress_program_with_limit`].
pub fn decompress_program(code: &[u8]) -> Result<Vec<u8>, WasmError> {
    decompress_program_with_limit(code, MAX_WASM_SIZE)
}

/// [`decompress_program`] with an explicit bound on the decompressed size, in bytes (nitro's
/// `MaxWasmSize` parameter differs between ArbOS versions).
///
/// # Errors
///
/// [`WasmError::MissingPrefix`] if `code` does not start with `0xEFF0`; [`WasmError::UnsupportedVersion`]
/// for fragments and root contracts (`0xEFF001`, `0xEFF002`) and unknown versions;
/// [`WasmError::UnsupportedDictionary`] if the dictionary byte is not `0x00`; [`WasmError::Decompress`] if
/// the payload is not valid brotli; [`WasmError::DecompressedTooLarge`] if it inflates past `max_wasm_size`.
pub fn decompress_program_with_limit(code: &[u8], max_wasm_size: usize) -> Result<Vec<u8>, WasmError> {
    let payload = match code {
        [0xEF, 0xF0, 0x00, 0x00, payload @ ..] => payload,
        [0xEF, 0xF0, 0x00, dictionary, ..] => return Err(WasmError::UnsupportedDictionary(*dictionary)),
        [0xEF, 0xF0, version, ..] => return Err(WasmError::UnsupportedVersion(*version)),
        _ => return Err(WasmError::MissingPrefix),
    };
    let mut wasm = Vec::new();
    // Read one byte past the limit to tell "exactly at the limit" from "over it" without inflating a
    // compression bomb any further.
    let limit = u64::try_from(max_wasm_size).unwrap_or(u64::MAX).saturating_add(1);
    brotli::Decompressor::new(payload, 4096)
        .take(limit)
        .read_to_end(&mut wasm)
        .map_err(WasmError::Decompress)?;
    if wasm.len() > max_wasm_size {
        return Err(WasmError::DecompressedTooLarge { limit: max_wasm_size });
    }
    Ok(wasm)
}

/// A re-encoder that copies every section except custom ones.
struct StripCustomSections;

impl Reencode for StripCustomSections {
    type Error = std::convert::Infallible;

    fn parse_custom_section(
        &mut self,
        _module: &mut wasm_encoder::Module,
        _section: CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use wasmparser::{Operator, Payload};

    use super::*;

    /// A module whose only function calls through the table with `call_indirect`, plus a custom section.
    const CALL_INDIRECT_WAT: &str = r#"
        (module
          (type $unary (func (param i32) (result i32)))
          (table 1 funcref)
          (memory (export "memory") 1)
          (elem (i32.const 0) func $double)
          (func $double (type $unary) local.get 0 i32.const 2 i32.mul)
          (func (export "user_entrypoint") (type $unary)
            local.get 0
            i32.const 0
            call_indirect (type $unary))
          (@custom "producers" "rustc 1.95"))
    "#;

    fn call_indirect_module() -> Vec<u8> {
        wat::parse_str(CALL_INDIRECT_WAT).expect("test module parses")
    }

    /// The same module with `call_indirect`'s table immediate written as rustc ≥ 1.82 writes it: a 5-byte
    /// padded LEB128 zero.
    fn rustc_style_module() -> Vec<u8> {
        let canonical = call_indirect_module();
        let code = code_section_range(&canonical);
        // Code section = count, then per body: size, locals, instructions. Only the second body contains
        // `call_indirect`; find `0x11 <type> 0x00` in it and widen the zero.
        let body = &canonical[code.clone()];
        let at = body
            .windows(3)
            .position(|w| w == [0x11, 0x00, 0x00])
            .expect("call_indirect")
            + 2;
        let mut section = body[..at].to_vec();
        section.extend([0x80, 0x80, 0x80, 0x80, 0x00]);
        section.extend(&body[at + 1..]);
        // Fix the second body's size (a one-byte LEB, since the body is tiny) and the section size.
        let first_size = usize::from(section[1]);
        let second_size_at = 2 + first_size;
        section[second_size_at] += 4;
        let mut module = canonical[..code.start - 2].to_vec();
        module.push(10);
        module.push(u8::try_from(section.len()).expect("tiny section"));
        module.extend(section);
        module.extend(&canonical[code.end..]);
        module
    }

    /// The byte range of the code section's contents (the section id and a one-byte size precede it).
    fn code_section_range(wasm: &[u8]) -> std::ops::Range<usize> {
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::CodeSectionStart {
                unchecked_range,
                size,
                ..
            } = payload.expect("parses")
            {
                assert!(size < 128, "test assumes a one-byte section size");
                return unchecked_range.start as usize..unchecked_range.end as usize;
            }
        }
        panic!("no code section")
    }

    fn custom_section_names(wasm: &[u8]) -> Vec<String> {
        Parser::new(0)
            .parse_all(wasm)
            .filter_map(|payload| match payload.expect("parses") {
                Payload::CustomSection(reader) => Some(reader.name().to_owned()),
                _ => None,
            })
            .collect()
    }

    /// The raw bytes of every `call_indirect` immediate pair (type index, table index) in the module.
    fn call_indirect_table_bytes(wasm: &[u8]) -> Vec<Vec<u8>> {
        let mut found = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::CodeSectionEntry(body) = payload.expect("parses") {
                let mut reader = body.get_operators_reader().expect("operators");
                while !reader.eof() {
                    let before = reader.original_position() as usize;
                    let op = reader.read().expect("operator");
                    if let Operator::CallIndirect { .. } = op {
                        // opcode, type index (one byte here), then the table immediate up to `after`.
                        let after = reader.original_position() as usize;
                        found.push(wasm[before + 2..after].to_vec());
                    }
                }
            }
        }
        found
    }

    mod prepare_program {
        use super::*;

        #[test]
        fn decompressing_the_code_gives_back_the_processed_module() {
            let prepared = prepare_program(&call_indirect_module()).unwrap();
            assert_eq!(decompress_program(prepared.code()).unwrap(), prepared.wasm());
        }

        #[test]
        fn code_starts_with_the_stylus_prefix() {
            let prepared = prepare_program(&call_indirect_module()).unwrap();
            assert_eq!(prepared.code()[..4], [0xEF, 0xF0, 0x00, 0x00]);
            assert_eq!(prepared.code()[..4], STYLUS_PREFIX);
        }

        #[test]
        fn drops_custom_sections() {
            let raw = call_indirect_module();
            // `wat` adds a `name` section for the `$identifiers`, as rustc does for symbols.
            assert_eq!(custom_section_names(&raw), ["producers", "name"]);
            let prepared = prepare_program(&raw).unwrap();
            assert!(custom_section_names(prepared.wasm()).is_empty());
        }

        #[test]
        fn rewrites_a_padded_call_indirect_table_immediate_to_one_zero_byte() {
            let raw = rustc_style_module();
            assert_eq!(
                call_indirect_table_bytes(&raw),
                [vec![0x80, 0x80, 0x80, 0x80, 0x00]]
            );

            let prepared = prepare_program(&raw).unwrap();
            assert_eq!(call_indirect_table_bytes(prepared.wasm()), [vec![0x00]]);
            // The same module as if it had been written canonically, minus the custom section.
            assert_eq!(prepared.wasm(), process_wasm(&call_indirect_module()).unwrap());
        }

        #[test]
        fn reports_sizes_of_each_step() {
            let raw = rustc_style_module();
            let prepared = prepare_program(&raw).unwrap();
            let sizes = prepared.sizes();
            assert_eq!(sizes.raw, raw.len());
            assert_eq!(sizes.processed, prepared.wasm().len());
            assert_eq!(sizes.code, prepared.code().len());
            assert!(
                sizes.processed < sizes.raw,
                "padding and the custom section are gone"
            );
            assert_eq!(sizes.code_margin(), (MAX_CODE_SIZE - sizes.code) as i64);
            assert!(sizes.within_limits());
            prepared.check_limits().unwrap();
        }

        #[test]
        fn processing_is_idempotent() {
            let once = process_wasm(&rustc_style_module()).unwrap();
            assert_eq!(process_wasm(&once).unwrap(), once);
        }

        #[test]
        fn garbage_input_is_a_parse_error() {
            let error = prepare_program(b"this is not wasm").unwrap_err();
            assert!(matches!(error, WasmError::Parse(_)), "{error:?}");
        }

        #[test]
        fn truncated_module_is_a_parse_error() {
            let wasm = call_indirect_module();
            let error = prepare_program(&wasm[..wasm.len() / 2]).unwrap_err();
            assert!(matches!(error, WasmError::Parse(_)), "{error:?}");
        }

        #[test]
        fn component_is_rejected() {
            let component = wat::parse_str("(component)").unwrap();
            let error = prepare_program(&component).unwrap_err();
            assert!(matches!(error, WasmError::NotACoreModule), "{error:?}");
        }

        #[test]
        fn simd_is_unsupported() {
            let wasm =
                wat::parse_str(r#"(module (func (result i32) v128.const i64x2 0 0 i32x4.extract_lane 0))"#)
                    .unwrap();
            let error = prepare_program(&wasm).unwrap_err();
            assert!(matches!(error, WasmError::Unsupported(_)), "{error:?}");
        }

        #[test]
        fn reference_types_are_unsupported() {
            let wasm = wat::parse_str(r#"(module (func (result i32) ref.null func ref.is_null))"#).unwrap();
            let error = prepare_program(&wasm).unwrap_err();
            assert!(matches!(error, WasmError::Unsupported(_)), "{error:?}");
        }

        #[test]
        fn oversized_code_fails_the_limit_check() {
            // Incompressible data segment: deploy code ends up over 24 KiB.
            let mut state = 0x2545_f491_4f6c_dd1d_u64;
            let data: String = (0..30 * 1024)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    format!("\\{:02x}", state as u8)
                })
                .collect();
            let wasm = wat::parse_str(format!(
                r#"(module (memory (export "memory") 1) (data (i32.const 0) "{data}") {ENTRYPOINT})"#
            ))
            .unwrap();
            let prepared = prepare_program(&wasm).unwrap();
            assert!(!prepared.sizes().within_limits());
            assert!(prepared.sizes().code_margin() < 0);
            let error = prepared.check_limits().unwrap_err();
            assert!(
                matches!(
                    error,
                    WasmError::CodeTooLarge {
                        limit: MAX_CODE_SIZE,
                        ..
                    }
                ),
                "{error:?}"
            );
        }
    }

    /// A minimal valid entrypoint, to splice into test modules.
    const ENTRYPOINT: &str = r#"(func (export "user_entrypoint") (param i32) (result i32) i32.const 0)"#;

    mod validate_program {
        use super::*;

        fn rule(wat: &str) -> RuleViolation {
            match validate_program(&wat::parse_str(wat).unwrap()) {
                Err(WasmError::Rule(rule)) => rule,
                other => panic!("expected a rule violation, got {other:?}"),
            }
        }

        #[test]
        fn accepts_a_minimal_program_and_reports_its_footprint() {
            let wasm =
                wat::parse_str(format!(r#"(module (memory (export "memory") 3) {ENTRYPOINT})"#)).unwrap();
            let info = validate_program(&wasm).unwrap();
            assert_eq!(info.footprint, 3);
            assert_eq!(info.functions, 1);
            assert_eq!(info.wasm_size, wasm.len());
        }

        #[test]
        fn rejects_raw_rustc_output() {
            let error = validate_program(&rustc_style_module()).unwrap_err();
            assert!(matches!(error, WasmError::Unsupported(_)), "{error:?}");
        }

        #[test]
        fn needs_a_memory() {
            assert_eq!(
                rule(&format!("(module {ENTRYPOINT})")),
                RuleViolation::MemoryCount(0)
            );
        }

        #[test]
        fn counts_an_imported_memory() {
            let wat = format!(
                r#"(module (import "env" "m" (memory 1)) (memory (export "memory") 1) {ENTRYPOINT})"#
            );
            // Two memories need the multi-memory feature, which nitro leaves off.
            let error = validate_program(&wat::parse_str(wat).unwrap()).unwrap_err();
            assert!(matches!(error, WasmError::Unsupported(_)), "{error:?}");
        }

        #[test]
        fn memory_must_be_exported_as_memory() {
            assert_eq!(
                rule(&format!(r#"(module (memory 1) {ENTRYPOINT})"#)),
                RuleViolation::MemoryNotExported
            );
            assert_eq!(
                rule(&format!(r#"(module (memory (export "mem") 1) {ENTRYPOINT})"#)),
                RuleViolation::MemoryNotExported
            );
        }

        #[test]
        fn memory_is_within_the_page_limit() {
            assert_eq!(
                rule(&format!(
                    r#"(module (memory (export "memory") 129) {ENTRYPOINT})"#
                )),
                RuleViolation::MemoryTooLarge {
                    pages: 129,
                    limit: 128
                }
            );
        }

        #[test]
        fn start_function_is_rejected() {
            assert_eq!(
                rule(&format!(
                    r#"(module (memory (export "memory") 1) (func $s) (start $s) {ENTRYPOINT})"#
                )),
                RuleViolation::StartFunction
            );
        }

        #[test]
        fn entrypoint_is_required() {
            assert_eq!(
                rule(r#"(module (memory (export "memory") 1))"#),
                RuleViolation::MissingEntrypoint
            );
        }

        #[test]
        fn entrypoint_must_take_and_return_i32() {
            assert_eq!(
                rule(
                    r#"(module (memory (export "memory") 1) (func (export "user_entrypoint") (param i64) (result i32) i32.const 0))"#
                ),
                RuleViolation::EntrypointType
            );
            assert_eq!(
                rule(
                    r#"(module (memory (export "memory") 1) (func (export "user_entrypoint") (param i32)))"#
                ),
                RuleViolation::EntrypointType
            );
        }

        fn base(extra: &str) -> String {
            format!(r#"(module (memory (export "memory") 1) {ENTRYPOINT} {extra})"#)
        }

        fn assert_too_many(extra: &str, what: &str) {
            match rule(&base(extra)) {
                RuleViolation::TooMany { what: got, .. } => assert_eq!(got, what),
                other => panic!("expected too many {what}, got {other:?}"),
            }
        }

        #[test]
        fn too_many_data_segments() {
            let ok = r#"(data (i32.const 0) "x")"#.repeat(128);
            validate_program(&wat::parse_str(base(&ok)).unwrap()).unwrap();
            assert_too_many(&r#"(data (i32.const 0) "x")"#.repeat(129), "data segments");
        }

        #[test]
        fn too_many_element_segments() {
            let elems = "(elem (i32.const 0) func 0)".repeat(129);
            assert_too_many(&format!("(table 1 funcref) {elems}"), "element segments");
        }

        #[test]
        fn too_many_element_entries() {
            let funcs = " 0".repeat(4097);
            assert_too_many(
                &format!("(table 4096 funcref) (elem (i32.const 0) func{funcs})"),
                "element entries",
            );
        }

        #[test]
        fn too_many_table_entries() {
            assert_too_many("(table 4097 funcref)", "table entries");
        }

        #[test]
        fn too_many_exports() {
            let exports: String = (0..1024)
                .map(|i| format!(r#"(export "e{i}" (func 0))"#))
                .collect();
            assert_too_many(&exports, "exports");
        }

        #[test]
        fn too_many_functions() {
            assert_too_many(&"(func)".repeat(4096), "functions");
        }

        #[test]
        fn too_many_globals() {
            assert_too_many(&"(global i32 (i32.const 0))".repeat(32_769), "globals");
        }

        #[test]
        fn too_many_imports() {
            let imports: String = (0..514)
                .map(|i| format!(r#"(import "vm_hooks" "f{i}" (func))"#))
                .collect();
            let wat = format!(r#"(module {imports} (memory (export "memory") 1) {ENTRYPOINT})"#);
            match rule(&wat) {
                RuleViolation::TooMany { what, count, .. } => assert_eq!((what, count), ("imports", 514)),
                other => panic!("{other:?}"),
            }
        }

        #[test]
        fn too_many_locals() {
            validate_program(
                &wat::parse_str(base(&format!("(func {})", "(local i32)".repeat(348)))).unwrap(),
            )
            .unwrap();
            assert_too_many(
                &format!("(func {})", "(local i32)".repeat(349)),
                "locals in one function",
            );
        }

        #[test]
        fn too_many_opcodes() {
            assert_too_many(
                &format!("(func {})", "nop ".repeat(65_536)),
                "opcodes in one function",
            );
        }

        #[test]
        fn name_too_long() {
            let name = "n".repeat(513);
            assert_eq!(
                rule(&base(&format!(r#"(export "{name}" (func 0))"#))),
                RuleViolation::NameTooLong { len: 513, limit: 512 }
            );
        }
    }

    mod validate_for_nitro {
        use super::*;

        #[test]
        fn rejects_the_padded_call_indirect_immediate() {
            let error = validate_for_nitro(&rustc_style_module()).unwrap_err();
            assert!(error.to_string().contains("zero byte expected"), "{error}");
        }

        #[test]
        fn accepts_the_processed_module() {
            validate_for_nitro(&process_wasm(&rustc_style_module()).unwrap()).unwrap();
        }
    }

    mod decompress_program {
        use super::*;

        #[test]
        fn evm_bytecode_has_no_prefix() {
            let error = decompress_program(&[0x60, 0x80, 0x60, 0x40, 0x52]).unwrap_err();
            assert!(matches!(error, WasmError::MissingPrefix), "{error:?}");
        }

        #[test]
        fn empty_code_has_no_prefix() {
            assert!(matches!(decompress_program(&[]), Err(WasmError::MissingPrefix)));
        }

        #[test]
        fn dictionary_other_than_none_is_unsupported() {
            let mut code = prepare_program(&call_indirect_module()).unwrap().into_code();
            code[3] = 0x01;
            assert!(matches!(
                decompress_program(&code),
                Err(WasmError::UnsupportedDictionary(0x01))
            ));
        }

        #[test]
        fn fragments_are_unsupported() {
            let error = decompress_program(&[0xEF, 0xF0, 0x01, 0x00, 0x00]).unwrap_err();
            assert!(matches!(error, WasmError::UnsupportedVersion(0x01)), "{error:?}");
            let error = decompress_program(&[0xEF, 0xF0, 0x02, 0x00, 0x00]).unwrap_err();
            assert!(matches!(error, WasmError::UnsupportedVersion(0x02)), "{error:?}");
        }

        #[test]
        fn corrupt_payload_is_a_decompress_error() {
            let mut code = STYLUS_PREFIX.to_vec();
            code.extend([0xFF; 16]);
            let error = decompress_program(&code).unwrap_err();
            assert!(matches!(error, WasmError::Decompress(_)), "{error:?}");
        }

        #[test]
        fn output_is_bounded() {
            let zeros = vec![0u8; 4096];
            let code = compress_program(&zeros).unwrap();
            assert_eq!(decompress_program_with_limit(&code, 4096).unwrap(), zeros);
            let error = decompress_program_with_limit(&code, 4095).unwrap_err();
            assert!(
                matches!(error, WasmError::DecompressedTooLarge { limit: 4095 }),
                "{error:?}"
            );
        }
    }
}
