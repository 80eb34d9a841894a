//! `html`: one self-contained page — the events embedded as JSON, a
//! timeline, and a player to scrub and play them — that makes no request
//! to anywhere when opened.

use super::{Subject, Writer};
use serde_json::Value;

#[derive(Default)]
pub struct Html {
    any: bool,
}

/// Text safe inside HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JSON safe inside a `<script>` element.
fn script_safe(json: &str) -> String {
    json.replace("</", "<\\/").replace("<!--", "<\\u0021--")
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{padding:12px 20px;background:#1d2433;color:#fff}header h1{font-size:18px;margin:0}
header p{margin:2px 0 0;color:#b8c0cc;font-size:12px}
#player{display:flex;gap:10px;align-items:center;padding:10px 20px;background:#fff;border-bottom:1px solid #dde1e6;position:sticky;top:0}
#scrub{flex:1}#pos{font-variant-numeric:tabular-nums;min-width:90px;text-align:right}
main{display:grid;grid-template-columns:minmax(260px,1fr) 2fr;gap:0;height:calc(100vh - 110px)}
#timeline{overflow:auto;border-right:1px solid #dde1e6;margin:0;padding:0;list-style:none;background:#fff}
#timeline li{padding:6px 12px;border-bottom:1px solid #eef0f3;cursor:pointer;display:flex;gap:8px}
#timeline li.on{background:#e6efff}#timeline li.fail .k{color:#b42318}
#timeline .t{color:#6b7280;font-variant-numeric:tabular-nums}#timeline .k{font-weight:600}
#detail{overflow:auto;padding:12px 20px}pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #dde1e6;padding:10px;border-radius:4px}
button,select{font:inherit;padding:4px 10px}
"#;

const SCRIPT: &str = r#"
(function(){
const events=JSON.parse(document.getElementById('events').textContent);
const list=document.getElementById('timeline'),detail=document.getElementById('detail');
const scrub=document.getElementById('scrub'),pos=document.getElementById('pos');
const play=document.getElementById('play'),speed=document.getElementById('speed');
let at=0,timer=null;
scrub.max=Math.max(events.length-1,0);
events.forEach(function(e,i){
  const li=document.createElement('li');
  if(e.status==='fail')li.className='fail';
  const t=document.createElement('span');t.className='t';t.textContent=(e.time||'').slice(11,19);
  const k=document.createElement('span');k.className='k';k.textContent=e.type;
  const d=document.createElement('span');d.textContent=e.tool||e.verb||(e.content||e.message||'').slice(0,60);
  li.append(t,k,d);li.onclick=function(){stop();show(i);};list.appendChild(li);
});
function show(i){
  if(!events.length){detail.textContent='This export holds no events.';return;}
  at=Math.max(0,Math.min(i,events.length-1));
  scrub.value=at;pos.textContent=(at+1)+' / '+events.length;
  Array.prototype.forEach.call(list.children,function(li,j){li.classList.toggle('on',j===at);});
  list.children[at].scrollIntoView({block:'nearest'});
  const e=events[at],pre=document.createElement('pre');
  pre.textContent=JSON.stringify(e,null,2);
  const h=document.createElement('h2');h.textContent=e.type+(e.tool?' · '+e.tool:'')+' — '+(e.time||'');
  detail.replaceChildren(h,pre);
}
function stop(){clearTimeout(timer);timer=null;play.textContent='Play';}
function step(){
  if(at>=events.length-1){stop();return;}
  const gap=Date.parse(events[at+1].time)-Date.parse(events[at].time);
  const wait=Math.min(Math.max(gap,0),2000)/Number(speed.value);
  timer=setTimeout(function(){show(at+1);step();},wait);
}
play.onclick=function(){if(timer){stop();}else{play.textContent='Pause';if(at>=events.length-1)show(0);step();}};
scrub.oninput=function(){stop();show(Number(scrub.value));};
document.addEventListener('keydown',function(ev){
  if(ev.key===' '){ev.preventDefault();play.onclick();}
  if(ev.key==='ArrowRight'){stop();show(at+1);}
  if(ev.key==='ArrowLeft'){stop();show(at-1);}
});
show(0);
})();
"#;

impl Writer for Html {
    fn head(&mut self, s: &Subject) -> String {
        let title = escape(&s.title);
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} — flightrec</title><style>{STYLE}</style></head><body>\n\
             <header><h1>{title}</h1><p>Exported {} by flightrec. Space plays and pauses; arrows step.</p></header>\n\
             <div id=\"player\"><button id=\"play\">Play</button>\
             <select id=\"speed\" aria-label=\"speed\"><option value=\"0.5\">0.5×</option><option value=\"1\" selected>1×</option>\
             <option value=\"2\">2×</option><option value=\"8\">8×</option><option value=\"32\">32×</option></select>\
             <input id=\"scrub\" type=\"range\" min=\"0\" max=\"0\" value=\"0\" aria-label=\"position\"><span id=\"pos\"></span></div>\n\
             <main><ol id=\"timeline\"></ol><section id=\"detail\"></section></main>\n\
             <script type=\"application/json\" id=\"events\">[",
            escape(&s.exported_at)
        )
    }

    fn event(&mut self, event: &Value) -> String {
        let sep = if self.any { ",\n" } else { "\n" };
        self.any = true;
        format!("{sep}{}", script_safe(&event.to_string()))
    }

    fn tail(&mut self) -> String {
        format!("\n]</script>\n<script>{SCRIPT}</script>\n</body></html>\n")
    }
}
