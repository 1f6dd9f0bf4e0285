#include "hark/layers/onboarding.hpp"

#include "hark/core/version.hpp"

namespace hark::layers {

std::string onboarding_page(std::string_view proxy_address) {
  std::string page = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hark capture proxy</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}
code,pre{background:#f3f3f3;padding:.1em .3em;border-radius:3px}h1{margin-bottom:0}
.sub{color:#666;margin-top:0}a.button{display:inline-block;padding:.4em .9em;margin:.2em;border:1px solid #888;border-radius:4px;text-decoration:none}</style>
</head><body>
<h1>Hark</h1><p class="sub">capture proxy )";
  page += hark::version;
  page += R"(</p>
<p>You reached Hark, the HTTP(S) capture proxy. Every exchange that goes through it is recorded
and can be inspected through its REST API.</p>
<h2>Use it</h2>
<p>Point your client at the proxy <code>)";
  page += proxy_address;
  page += R"(</code>, for example <code>curl -x http://)";
  page += proxy_address;
  page +=
      R"( http://example.com/</code>, or set it as the system or browser HTTP and HTTPS proxy.</p>
<h2>Trust the Hark CA</h2>
<p>To inspect HTTPS, your client must trust this installation's certificate authority. It was
created on this machine and is unique to it.</p>
<p><a class="button" href="/ca.pem">Download ca.pem</a> <a class="button" href="/ca.der">Download ca.der</a></p>
<ul>
<li><b>Debian / Ubuntu</b>: <code>sudo cp ca.pem /usr/local/share/ca-certificates/hark.crt &amp;&amp; sudo update-ca-certificates</code></li>
<li><b>Fedora / RHEL</b>: <code>sudo cp ca.pem /etc/pki/ca-trust/source/anchors/hark.pem &amp;&amp; sudo update-ca-trust</code></li>
<li><b>macOS</b>: <code>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ca.pem</code></li>
<li><b>Windows</b>: <code>certutil -addstore root ca.der</code> (as Administrator)</li>
<li><b>iOS</b>: open <code>ca.pem</code> in Safari, install the profile (Settings › Profile Downloaded), then enable full trust in Settings › General › About › Certificate Trust Settings.</li>
<li><b>Android</b>: Settings › Security › Encryption &amp; credentials › Install a certificate › CA certificate, pick <code>ca.der</code>. Apps trust user CAs only if they opt in.</li>
<li><b>Firefox</b>: Settings › Privacy &amp; Security › Certificates › View Certificates › Authorities › Import.</li>
<li><b>curl / Node / Python</b>: <code>curl --cacert ca.pem</code>, <code>NODE_EXTRA_CA_CERTS=ca.pem</code>, <code>REQUESTS_CA_BUNDLE=ca.pem</code>.</li>
</ul>
</body></html>
)";
  return page;
}

}  // namespace hark::layers
