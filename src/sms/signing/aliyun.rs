//! Alibaba Cloud API signatures: the legacy RPC signature (HMAC-SHA1, SignatureVersion 1.0) and
//! V3 (ACS3-HMAC-SHA256). The SendSms adapter signs with V3 by default; the RPC form stays for
//! gateways that only speak it.
use super::{canonical_query, hmac_sha256, percent_encode, sha256_hex};
use base64::Engine;
use hmac::Mac;

/// `METHOD&%2F&pe(canonical query)` — the legacy string to sign.
pub fn rpc_string_to_sign(method: &str, params: &[(String, String)]) -> String {
    format!("{method}&%2F&{}", percent_encode(&canonical_query(params)))
}

/// Base64(HMAC-SHA1(secret + "&", string to sign)).
pub fn rpc_signature(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    let mut mac = crate::domain::mac::hmac_sha1(key.as_bytes());
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What a V3 signature covers.
pub struct V3Request<'a> {
    pub method: &'a str,
    pub query: &'a [(String, String)],
    /// Signed headers: `host`, every `x-acs-*` and `content-type` when there is a body.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// (canonical request, signed header names joined by `;`).
pub fn v3_canonical_request(r: &V3Request<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> =
        r.headers.iter().map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical = format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        r.method,
        canonical_query(r.query),
        canonical_headers,
        signed,
        sha256_hex(r.body)
    );
    (canonical, signed)
}

/// The `Authorization` header value.
pub fn v3_authorization(key_id: &str, secret: &str, r: &V3Request<'_>) -> String {
    let (canonical, signed) = v3_canonical_request(r);
    let string_to_sign = format!("ACS3-HMAC-SHA256\n{}", sha256_hex(canonical.as_bytes()));
    let signature = hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    format!("ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={signed},Signature={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn rpc_signature_matches_the_documented_example() {
        let params = vec![
            p("AccessKeyId", "testId"),
            p("Action", "SendSms"),
            p("Format", "XML"),
            p("OutId", "123"),
            p("PhoneNumbers", "15300000001"),
            p("RegionId", "cn-hangzhou"),
            p("SignName", "阿里云短信测试专用"),
            p("SignatureMethod", "HMAC-SHA1"),
            p("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            p("SignatureVersion", "1.0"),
            p("TemplateCode", "SMS_71390007"),
            p("TemplateParam", r#"{"customer":"test"}"#),
            p("Timestamp", "2017-07-12T02:42:19Z"),
            p("Version", "2017-05-25"),
        ];
        assert_eq!(
            canonical_query(&params),
            "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou\
             &SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8\
             &SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0\
             &TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D\
             &Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
        );
        let sts = rpc_string_to_sign("GET", &params);
        assert!(sts.starts_with("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26"));
        assert!(sts.contains("Timestamp%3D2017-07-12T02%253A42%253A19Z"));
        let sig = rpc_signature("testSecret", &sts);
        assert_eq!(sig, "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        assert_eq!(percent_encode(&sig), "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D");
    }

    #[test]
    fn v3_signature_matches_the_documented_example() {
        let query =
            vec![p("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), p("RegionId", "cn-shanghai")];
        let headers = vec![
            p("host", "ecs.cn-shanghai.aliyuncs.com"),
            p("x-acs-action", "RunInstances"),
            p("x-acs-version", "2014-05-26"),
            p("x-acs-date", "2023-10-26T10:22:32Z"),
            p("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            p("x-acs-content-sha256", &sha256_hex(b"")),
        ];
        let r = V3Request { method: "POST", query: &query, headers: &headers, body: b"" };
        let (canonical, _) = v3_canonical_request(&r);
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            v3_authorization("YourAccessKeyId", "YourAccessKeySecret", &r),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;\
             x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }
}
