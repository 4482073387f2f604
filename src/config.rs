//! One configuration for every command that talks to a chain (`docs/OPERATOR.md`, "Configuration").
//!
//! Each setting comes from a flag, else its environment variable (clap reads both: a flag wins), else the
//! configuration file — `--config FILE` (`DAMM_CONFIG`), or `./damm.toml` when it exists — else its default.
//! Relative paths in the file (`keystore`, `deployment`) are relative to the file's directory.
//!
//! The signer is a private key or a keystore (V3 JSON) file, never both from the same place: flags and
//! environment variables together are one place, the file another, and the first place that names a signer
//! decides (a key in `damm.toml` does not conflict with `--keystore`). A keystore's password comes from
//! `DAMM_KEYSTORE_PASSWORD`, else from a prompt when stdin is a terminal.
//!
//! No error message and no `Debug` output ever contains the private key or the password.

use std::{
    fmt,
    io::IsTerminal,
    path::{Path, PathBuf},
    str::FromStr,
};

use alloy::signers::local::PrivateKeySigner;
use serde::Deserialize;

/// The JSON-RPC endpoint when none is configured (nitro's devnode, and `damm devnode`).
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8547";
/// The deployment file when none is configured.
pub const DEFAULT_DEPLOYMENT: &str = "deployment.json";
/// The configuration file read when it exists and `--config` is not given.
pub const DEFAULT_CONFIG: &str = "damm.toml";
/// The environment variable holding a keystore's password.
pub const KEYSTORE_PASSWORD_ENV: &str = "DAMM_KEYSTORE_PASSWORD";

/// A secret string (a private key): its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_string()))
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

/// The options every command that talks to a chain takes (flatten them into the command's arguments).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ChainArgs {
    /// JSON-RPC endpoint [default: http://127.0.0.1:8547].
    #[arg(long, env = "DAMM_RPC_URL", value_name = "URL")]
    pub rpc_url: Option<String>,
    /// The signing key (hex). Prefer `DAMM_PRIVATE_KEY` or a keystore: flags show in the process list.
    #[arg(long, env = "DAMM_PRIVATE_KEY", value_name = "HEX", hide_env_values = true)]
    pub private_key: Option<Secret>,
    /// A keystore (V3 JSON) file instead of a key; its password from DAMM_KEYSTORE_PASSWORD or a prompt.
    #[arg(long, env = "DAMM_KEYSTORE", value_name = "FILE")]
    pub keystore: Option<PathBuf>,
    /// The chain id the endpoint must report (checked before anything is sent).
    #[arg(long, env = "DAMM_CHAIN_ID", value_name = "N")]
    pub chain_id: Option<u64>,
    /// The deployment file `damm deploy` writes and the other commands read [default: deployment.json].
    #[arg(long, env = "DAMM_DEPLOYMENT", value_name = "FILE")]
    pub deployment: Option<PathBuf>,
    /// Configuration file supplying defaults [default: ./damm.toml when it exists].
    #[arg(long, env = "DAMM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The JSON-RPC endpoint.
    pub rpc_url: String,
    /// The signer, if a key or keystore was given.
    pub signer: Option<PrivateKeySigner>,
    /// The chain id the endpoint must report, if given.
    pub chain_id: Option<u64>,
    /// The deployment file.
    pub deployment: PathBuf,
}

/// Why the configuration cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--config` names a file that does not exist.
    #[error("configuration file {path} does not exist")]
    ConfigMissing {
        /// The file.
        path: PathBuf,
    },
    /// The configuration file cannot be read.
    #[error("cannot read configuration file {path}: {source}")]
    ConfigUnreadable {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML, or a key is unknown or has the wrong type.
    #[error("configuration file {path}{}: {message}", location(*line, key.as_deref()))]
    ConfigInvalid {
        /// The file.
        path: PathBuf,
        /// The line of the error, if known.
        line: Option<usize>,
        /// The key that is wrong, if known.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The private key is not a key (the key itself is never shown).
    #[error("the private key from {origin} is invalid: {reason}")]
    BadPrivateKey {
        /// Where it came from.
        origin: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A key and a keystore were both given in one place.
    #[error("both a private key and a keystore are given in {origin}: give one")]
    KeyAndKeystore {
        /// Where.
        origin: &'static str,
    },
    /// The keystore file cannot be read.
    #[error("cannot read keystore {path}: {source}")]
    KeystoreUnreadable {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The keystore cannot be decrypted (a wrong password, or not a keystore).
    #[error("cannot decrypt keystore {path}: {reason}")]
    KeystoreDecrypt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A keystore was given, no password is in the environment, and stdin is not a terminal to ask on.
    #[error(
        "keystore {path} needs a password: set DAMM_KEYSTORE_PASSWORD (stdin is not a terminal, so it cannot \
         be asked for)"
    )]
    NoPassword {
        /// The keystore.
        path: PathBuf,
    },
    /// The password prompt failed.
    #[error("cannot read the keystore password: {0}")]
    Prompt(std::io::Error),
    /// The RPC URL is not an http(s) URL.
    #[error("invalid RPC URL {url:?} from {origin}: {reason}")]
    BadRpcUrl {
        /// The URL.
        url: String,
        /// Where it came from.
        origin: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn location(line: Option<usize>, key: Option<&str>) -> String {
    match (line, key) {
        (Some(line), Some(key)) => format!(", line {line}, key `{key}`"),
        (Some(line), None) => format!(", line {line}"),
        (None, Some(key)) => format!(", key `{key}`"),
        (None, None) => String::new(),
    }
}

/// `damm.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    rpc_url: Option<String>,
    private_key: Option<String>,
    keystore: Option<PathBuf>,
    chain_id: Option<u64>,
    deployment: Option<PathBuf>,
}

/// Parses TOML text into `T`, reporting errors with the line and the key at fault.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let (line, key) = match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                (Some(line), key_at(text, span, e.message()))
            }
            None => (None, None),
        };
        ConfigError::ConfigInvalid {
            path: path.to_path_buf(),
            line,
            key,
            message: e.message().trim().to_string(),
        }
    })
}

/// The key an error's span points at or into: the `key = …` of its line, or the key an "unknown field" or
/// "missing field" message names.
fn key_at(text: &str, span: std::ops::Range<usize>, message: &str) -> Option<String> {
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.split(prefix).nth(1) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[line_start..line_end];
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// Parses a private key, with an error that never contains it.
fn parse_key(key: &str, origin: &'static str) -> Result<PrivateKeySigner, ConfigError> {
    let hex = key.trim();
    let digits = hex.strip_prefix("0x").unwrap_or(hex);
    let bad = |reason: String| ConfigError::BadPrivateKey { origin, reason };
    if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad("it is not hexadecimal".into()));
    }
    if digits.len() != 64 {
        return Err(bad(format!(
            "expected 64 hex digits (32 bytes, with or without 0x), got {}",
            digits.len()
        )));
    }
    digits
        .parse::<PrivateKeySigner>()
        .map_err(|_| bad("not a valid secp256k1 key (zero, or not below the curve order)".into()))
}

/// Decrypts a keystore file.
fn decrypt_keystore(path: &Path, password: &str) -> Result<PrivateKeySigner, ConfigError> {
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| {
        let reason = match e.to_string() {
            s if s.contains("Mac Mismatch") => {
                "wrong password (the keystore's MAC does not match)".to_string()
            }
            s if s.starts_with("serde-json") => format!("not a V3 keystore file ({s})"),
            s => s,
        };
        ConfigError::KeystoreDecrypt {
            path: path.to_path_buf(),
            reason,
        }
    })
}

/// The password of `keystore`: `DAMM_KEYSTORE_PASSWORD`, else a prompt on the terminal.
fn password_from_env_or_prompt(keystore: &Path) -> Result<String, ConfigError> {
    if let Ok(password) = std::env::var(KEYSTORE_PASSWORD_ENV) {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(ConfigError::NoPassword {
            path: keystore.to_path_buf(),
        });
    }
    rpassword::prompt_password(format!("Password of keystore {}: ", keystore.display()))
        .map_err(ConfigError::Prompt)
}

/// Where a signer is configured.
enum SignerSource {
    Key(String, &'static str),
    Keystore(PathBuf),
}

impl ChainArgs {
    /// Resolves the settings: flags and environment variables, then the configuration file, then the
    /// defaults; reads the signer (asking for a keystore's password if needed).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming what is wrong.
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        self.resolve_in(&cwd, &mut password_from_env_or_prompt)
    }

    /// [`Self::resolve`] with relative paths taken from `cwd` and the keystore password from `password`.
    ///
    /// # Errors
    ///
    /// As [`Self::resolve`].
    pub fn resolve_in(
        &self,
        cwd: &Path,
        password: &mut dyn FnMut(&Path) -> Result<String, ConfigError>,
    ) -> Result<Settings, ConfigError> {
        let (file, file_dir) = self.load_file(cwd)?;
        let in_file = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                file_dir.join(p)
            }
        };

        let (rpc_url, url_origin) = match (&self.rpc_url, &file.rpc_url) {
            (Some(url), _) => (url.clone(), "--rpc-url / DAMM_RPC_URL"),
            (None, Some(url)) => (url.clone(), "the configuration file"),
            (None, None) => (DEFAULT_RPC_URL.to_string(), "the default"),
        };
        check_url(&rpc_url, url_origin)?;

        let source = match (&self.private_key, &self.keystore) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::KeyAndKeystore {
                    origin:
                        "the flags and environment (--private-key/DAMM_PRIVATE_KEY, --keystore/DAMM_KEYSTORE)",
                })
            }
            (Some(key), None) => Some(SignerSource::Key(
                key.expose().to_string(),
                "--private-key / DAMM_PRIVATE_KEY",
            )),
            (None, Some(path)) => Some(SignerSource::Keystore(cwd.join(path))),
            (None, None) => match (&file.private_key, &file.keystore) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError::KeyAndKeystore {
                        origin: "the configuration file",
                    })
                }
                (Some(key), None) => Some(SignerSource::Key(key.clone(), "the configuration file")),
                (None, Some(path)) => Some(SignerSource::Keystore(in_file(path))),
                (None, None) => None,
            },
        };
        let signer = match source {
            None => None,
            Some(SignerSource::Key(key, origin)) => Some(parse_key(&key, origin)?),
            Some(SignerSource::Keystore(path)) => {
                if let Err(source) = std::fs::metadata(&path) {
                    return Err(ConfigError::KeystoreUnreadable { path, source });
                }
                let password = password(&path)?;
                Some(decrypt_keystore(&path, &password)?)
            }
        };

        let deployment = match (&self.deployment, &file.deployment) {
            (Some(path), _) => cwd.join(path),
            (None, Some(path)) => in_file(path),
            (None, None) => cwd.join(DEFAULT_DEPLOYMENT),
        };
        Ok(Settings {
            rpc_url,
            signer,
            chain_id: self.chain_id.or(file.chain_id),
            deployment,
        })
    }

    /// The configuration file's settings (empty without a file) and the directory its paths are relative to.
    fn load_file(&self, cwd: &Path) -> Result<(FileConfig, PathBuf), ConfigError> {
        let path = match &self.config {
            Some(path) => {
                let path = cwd.join(path);
                if !path.exists() {
                    return Err(ConfigError::ConfigMissing { path });
                }
                path
            }
            None => {
                let path = cwd.join(DEFAULT_CONFIG);
                if !path.exists() {
                    return Ok((FileConfig::default(), cwd.to_path_buf()));
                }
                path
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::ConfigUnreadable {
            path: path.clone(),
            source,
        })?;
        let file = parse_toml(&path, &text)?;
        let dir = path.parent().map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
        Ok((file, dir))
    }
}

/// Checks that `url` is an http(s) URL.
fn check_url(url: &str, origin: &'static str) -> Result<(), ConfigError> {
    let bad = |reason: String| ConfigError::BadRpcUrl {
        url: url.to_string(),
        origin,
        reason,
    };
    let parsed: alloy::transports::http::reqwest::Url = url.parse().map_err(|e| bad(format!("{e}")))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(bad(format!("scheme {other:?} is not supported (http or https)"))),
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// A fresh directory under the system's temporary directory.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "damm-config-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        chain: ChainArgs,
    }

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    fn no_password(_: &Path) -> Result<String, ConfigError> {
        panic!("no password expected")
    }

    #[test]
    fn every_option_has_its_environment_variable() {
        let command = Cli::command();
        let envs: Vec<(String, String)> = command
            .get_arguments()
            .filter_map(|a| {
                Some((
                    a.get_long()?.to_string(),
                    a.get_env()?.to_string_lossy().into_owned(),
                ))
            })
            .collect();
        let expected = [
            ("rpc-url", "DAMM_RPC_URL"),
            ("private-key", "DAMM_PRIVATE_KEY"),
            ("keystore", "DAMM_KEYSTORE"),
            ("chain-id", "DAMM_CHAIN_ID"),
            ("deployment", "DAMM_DEPLOYMENT"),
            ("config", "DAMM_CONFIG"),
        ];
        for (flag, env) in expected {
            assert!(
                envs.iter().any(|(f, e)| f == flag && e == env),
                "--{flag} reads {env}: {envs:?}"
            );
        }
        let key = command
            .get_arguments()
            .find(|a| a.get_long() == Some("private-key"))
            .expect("--private-key");
        assert!(
            key.is_hide_env_values_set(),
            "the key's value is never shown in --help"
        );
    }

    #[test]
    fn defaults_without_anything() {
        let dir = temp_dir("defaults");
        let s = ChainArgs::default()
            .resolve_in(&dir, &mut no_password)
            .expect("resolves");
        assert_eq!(s.rpc_url, DEFAULT_RPC_URL);
        assert!(s.signer.is_none());
        assert_eq!(s.chain_id, None);
        assert_eq!(s.deployment, dir.join("deployment.json"));
    }

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let dir = temp_dir("precedence");
        std::fs::write(
            dir.join("damm.toml"),
            format!(
                "rpc_url = \"http://file:1\"\nprivate_key = \"{KEY}\"\nchain_id = 7\ndeployment = \"d/file.json\"\n"
            ),
        )
        .unwrap();
        // The file alone.
        let s = ChainArgs::default()
            .resolve_in(&dir, &mut no_password)
            .expect("resolves");
        assert_eq!(s.rpc_url, "http://file:1");
        assert_eq!(s.chain_id, Some(7));
        assert_eq!(s.deployment, dir.join("d/file.json"));
        assert_eq!(
            s.signer.expect("a signer").address(),
            KEY.parse::<PrivateKeySigner>().unwrap().address()
        );
        // Flags over it.
        let cli = Cli::try_parse_from([
            "t",
            "--rpc-url",
            "http://flag:2",
            "--chain-id",
            "9",
            "--deployment",
            "flag.json",
        ])
        .expect("parses");
        let s = cli.chain.resolve_in(&dir, &mut no_password).expect("resolves");
        assert_eq!(s.rpc_url, "http://flag:2");
        assert_eq!(s.chain_id, Some(9));
        assert_eq!(s.deployment, dir.join("flag.json"));
        assert!(s.signer.is_some(), "the file's key still applies");
    }

    #[test]
    fn an_explicit_config_file_and_relative_paths() {
        let dir = temp_dir("explicit");
        let sub = dir.join("conf");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("other.toml"), "deployment = \"dep.json\"\n").unwrap();
        let args = ChainArgs {
            config: Some("conf/other.toml".into()),
            ..ChainArgs::default()
        };
        let s = args.resolve_in(&dir, &mut no_password).expect("resolves");
        assert_eq!(s.deployment, sub.join("dep.json"), "relative to the file");

        let args = ChainArgs {
            config: Some("missing.toml".into()),
            ..ChainArgs::default()
        };
        let e = args.resolve_in(&dir, &mut no_password).unwrap_err();
        assert!(matches!(e, ConfigError::ConfigMissing { .. }), "{e}");
    }

    #[test]
    fn invalid_toml_names_the_key() {
        let dir = temp_dir("invalid");
        let path = dir.join("damm.toml");
        std::fs::write(&path, "rpc_url = \"http://x:1\"\nchain_id = \"seven\"\n").unwrap();
        let e = ChainArgs::default()
            .resolve_in(&dir, &mut no_password)
            .unwrap_err();
        match &e {
            ConfigError::ConfigInvalid { line, key, .. } => {
                assert_eq!(*line, Some(2), "{e}");
                assert_eq!(key.as_deref(), Some("chain_id"), "{e}");
            }
            other => panic!("expected ConfigInvalid, got {other}"),
        }
        assert!(e.to_string().contains("line 2, key `chain_id`"), "{e}");

        std::fs::write(&path, "rpc_ur = \"http://x:1\"\n").unwrap();
        let e = ChainArgs::default()
            .resolve_in(&dir, &mut no_password)
            .unwrap_err();
        assert!(e.to_string().contains("key `rpc_ur`"), "{e}");
        assert!(e.to_string().contains("unknown field"), "{e}");

        std::fs::write(&path, "rpc_url = \n").unwrap();
        let e = ChainArgs::default()
            .resolve_in(&dir, &mut no_password)
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::ConfigInvalid { line: Some(1), .. }),
            "{e}"
        );
    }

    #[test]
    fn bad_keys_are_named_and_never_printed() {
        let dir = temp_dir("badkey");
        let secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b7869";
        for key in [secret, "0xzz", &"0".repeat(64)] {
            let args = ChainArgs {
                private_key: Some(key.into()),
                ..ChainArgs::default()
            };
            let e = args.resolve_in(&dir, &mut no_password).unwrap_err();
            assert!(matches!(e, ConfigError::BadPrivateKey { .. }), "{e}");
            assert!(!e.to_string().contains(&key[2..]), "the key is not printed: {e}");
            assert!(!format!("{e:?}").contains(&key[2..]), "nor in Debug");
            assert!(
                !format!("{args:?}").contains(&key[2..]),
                "nor the arguments' Debug"
            );
        }
        let args = ChainArgs {
            private_key: Some(KEY.into()),
            keystore: Some("k.json".into()),
            ..ChainArgs::default()
        };
        let e = args.resolve_in(&dir, &mut no_password).unwrap_err();
        assert!(matches!(e, ConfigError::KeyAndKeystore { .. }), "{e}");

        std::fs::write(
            dir.join("damm.toml"),
            format!("private_key = \"{KEY}\"\nkeystore = \"k.json\"\n"),
        )
        .unwrap();
        let e = ChainArgs::default()
            .resolve_in(&dir, &mut no_password)
            .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::KeyAndKeystore {
                    origin: "the configuration file"
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        let dir = temp_dir("url");
        for url in ["not a url", "ws://127.0.0.1:8546"] {
            let args = ChainArgs {
                rpc_url: Some(url.into()),
                ..ChainArgs::default()
            };
            let e = args.resolve_in(&dir, &mut no_password).unwrap_err();
            assert!(matches!(e, ConfigError::BadRpcUrl { .. }), "{e}");
        }
    }

    #[test]
    fn keystore_round_trip() {
        let dir = temp_dir("keystore");
        let key: PrivateKeySigner = KEY.parse().unwrap();
        let mut rng = alloy::signers::k256::elliptic_curve::rand_core::OsRng;
        PrivateKeySigner::encrypt_keystore(&dir, &mut rng, key.to_bytes(), "hunter2", Some("key.json"))
            .expect("keystore written");
        let args = ChainArgs {
            keystore: Some(dir.join("key.json")),
            ..ChainArgs::default()
        };
        let mut asked = Vec::new();
        let s = args
            .resolve_in(&dir, &mut |path| {
                asked.push(path.to_path_buf());
                Ok("hunter2".to_string())
            })
            .expect("decrypts");
        assert_eq!(s.signer.expect("a signer").address(), key.address());
        assert_eq!(asked, vec![dir.join("key.json")]);

        let e = args
            .resolve_in(&dir, &mut |_| Ok("wrong".to_string()))
            .unwrap_err();
        assert!(matches!(e, ConfigError::KeystoreDecrypt { .. }), "{e}");
        assert!(e.to_string().contains("wrong password"), "{e}");
        assert!(
            !e.to_string().contains("wrong\""),
            "the password is not printed: {e}"
        );

        // In the file, relative to it; a flag's key takes precedence over the file's keystore.
        std::fs::write(dir.join("damm.toml"), "keystore = \"key.json\"\n").unwrap();
        let s = ChainArgs::default()
            .resolve_in(&dir, &mut |_| Ok("hunter2".to_string()))
            .expect("decrypts");
        assert_eq!(s.signer.unwrap().address(), key.address());
        let other = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
        let args = ChainArgs {
            private_key: Some(other.into()),
            ..ChainArgs::default()
        };
        let s = args.resolve_in(&dir, &mut no_password).expect("the flag's key");
        assert_eq!(
            s.signer.unwrap().address(),
            other.parse::<PrivateKeySigner>().unwrap().address()
        );

        let args = ChainArgs {
            keystore: Some(dir.join("missing.json")),
            ..ChainArgs::default()
        };
        let e = args.resolve_in(&dir, &mut no_password).unwrap_err();
        assert!(matches!(e, ConfigError::KeystoreUnreadable { .. }), "{e}");
    }
}
