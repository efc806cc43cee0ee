/**
 * The one catalogue of user-facing text for `loa` and `loa-station`. Vietnamese when the
 * locale (LC_ALL, then LC_MESSAGES, then LANG) starts with `vi`, English otherwise.
 * Placeholders are `{name}`. Spoken texts (what residents hear) are Vietnamese in every locale.
 */
export type Lang = 'en' | 'vi';
type Entry = { en: string; vi: string };

const cli = {
  'cli.description': {
    en: 'Loa central controller: fleet, keys, broker, schedules, announcements, alerts, reports',
    vi: 'Bộ điều khiển trung tâm Loa: đài, khóa, broker, lịch phát, thông báo, cảnh báo, báo cáo',
  },
  'error.invalid': { en: '{path}: {reason}', vi: '{path}: {reason}' },

  // commands
  'cmd.keys': { en: 'signing keys (Ed25519)', vi: 'khóa ký (Ed25519)' },
  'cmd.keys.init': {
    en: 'create your signing key pair: the private key in your own key directory, the public key in the fleet',
    vi: 'tạo cặp khóa ký của bạn: khóa bí mật trong thư mục khóa riêng, khóa công khai vào hồ sơ các đài',
  },
  'cmd.keys.list': { en: 'list signing keys and what they may sign', vi: 'liệt kê khóa ký và quyền ký' },
  'cmd.broker': { en: 'MQTT broker (mosquitto) configuration', vi: 'cấu hình broker MQTT (mosquitto)' },
  'cmd.broker.config': { en: 'write mosquitto.conf, password file and ACL for the fleet', vi: 'ghi mosquitto.conf, tệp mật khẩu và ACL cho các đài' },
  'cmd.provision': { en: 'write station.yaml for a ward box (rotates its broker password)', vi: 'ghi station.yaml cho một đài (đổi mật khẩu broker của đài)' },
  'cmd.schedule': { en: 'programme schedules', vi: 'lịch phát sóng' },
  'cmd.schedule.validate': { en: 'check schedule files', vi: 'kiểm tra tệp lịch' },
  'cmd.schedule.push': { en: 'sign and publish schedules to their stations', vi: 'ký và gửi lịch tới các đài' },
  'cmd.schedule.show': { en: 'print the compiled schedule of each station (JSON)', vi: 'in lịch đã biên dịch của từng đài (JSON)' },
  'cmd.schedule.next': { en: 'list the next fire times per station', vi: 'liệt kê các lần phát tiếp theo của từng đài' },
  'cmd.schedule.diff': { en: 'compare schedule files with what stations have applied', vi: 'so sánh tệp lịch với lịch các đài đang áp dụng' },
  'cmd.announce': { en: 'broadcast an announcement (audio file or --text)', vi: 'phát thông báo (tệp âm thanh hoặc --text)' },
  'cmd.alert': {
    en: 'emergency alert: --test sends now, a live alert is drafted for approval',
    vi: 'cảnh báo khẩn cấp: --test gửi ngay, cảnh báo thật cần người thứ hai phê duyệt',
  },
  'cmd.alert.approve': { en: 'second signature on a live alert draft, then send it', vi: 'ký lần hai bản nháp cảnh báo rồi gửi' },
  'cmd.alert.cancel': { en: 'cancel an alert and broadcast the scripted correction', vi: 'hủy cảnh báo và phát thông báo đính chính' },
  'cmd.collect': { en: 'run the central collector (state, telemetry, acks into SQLite)', vi: 'chạy bộ thu trung tâm (trạng thái, đo lường, xác nhận vào SQLite)' },
  'cmd.stations': { en: 'status of every station', vi: 'trạng thái các đài' },
  'cmd.broadcasts': { en: 'recent announcements and alerts with delivery counts', vi: 'thông báo và cảnh báo gần đây kèm số đài đã phát' },
  'cmd.report': { en: 'delivery report per broadcast and station', vi: 'báo cáo phát sóng theo bản tin và đài' },

  // arguments and options
  'arg.keyName': { en: 'key id ([a-z0-9-])', vi: 'mã khóa ([a-z0-9-])' },
  'arg.station': { en: 'station id', vi: 'mã đài' },
  'arg.scheduleFiles': { en: 'schedule YAML files', vi: 'các tệp lịch YAML' },
  'arg.audio': { en: 'audio file (any format ffmpeg reads)', vi: 'tệp âm thanh (định dạng ffmpeg đọc được)' },
  'arg.draft': { en: 'draft file printed by `loa alert`', vi: 'tệp nháp do `loa alert` in ra' },
  'arg.broadcastId': { en: 'id of the alert to cancel', vi: 'mã cảnh báo cần hủy' },
  'opt.fleet': { en: 'fleet file (default: $LOA_FLEET, then ./fleet.yaml)', vi: 'tệp cấu hình đài (mặc định: $LOA_FLEET, rồi ./fleet.yaml)' },
  'opt.help': { en: 'show help for this command', vi: 'xem hướng dẫn lệnh này' },
  'opt.version': { en: 'show the version', vi: 'xem phiên bản' },
  'opt.json': { en: 'machine-readable JSON output', vi: 'xuất JSON cho máy đọc' },
  'opt.force': { en: 'overwrite an existing key', vi: 'ghi đè khóa đã có' },
  'opt.out': { en: 'output directory', vi: 'thư mục xuất' },
  'opt.port': { en: 'port of the central listener (central user only)', vi: 'cổng nghe trung tâm (chỉ người dùng trung tâm)' },
  'opt.bind': { en: 'listener bind address', vi: 'địa chỉ lắng nghe' },
  'opt.tlsPort': { en: 'TLS listener port', vi: 'cổng TLS' },
  'opt.user': { en: 'unix user mosquitto runs as (`user` directive)', vi: 'người dùng hệ thống chạy mosquitto (lệnh `user`)' },
  'opt.noTls': { en: 'no TLS listener', vi: 'không mở cổng TLS' },
  'opt.station': { en: 'only these stations (comma-separated)', vi: 'chỉ các đài này (phân cách bằng dấu phẩy)' },
  'opt.key': { en: 'signing key id', vi: 'mã khóa ký' },
  'opt.approveKey': { en: "your signing key (not the drafter's)", vi: 'khóa ký của bạn (khác người soạn)' },
  'opt.reason': { en: 'reason recorded with the cancel', vi: 'lý do hủy' },
  'opt.from': { en: 'start time (YYYY-MM-DD[ HH:MM], HH:MM or ISO)', vi: 'thời điểm bắt đầu (YYYY-MM-DD[ HH:MM], HH:MM hoặc ISO)' },
  'opt.toDate': { en: 'end date or time (a date includes the whole day)', vi: 'ngày hoặc giờ kết thúc (ngày tính cả ngày)' },
  'opt.count': { en: 'how many fire times per station (default 5)', vi: 'số lần phát mỗi đài (mặc định 5)' },
  'opt.text': { en: 'Vietnamese text to speak (espeak-ng)', vi: 'văn bản tiếng Việt để đọc (espeak-ng)' },
  'cmd.control': { en: 'operational command to stations: volume, stop, resume, rebirth, resync', vi: 'lệnh vận hành tới các đài: volume, stop, resume, rebirth, resync' },
  'arg.controlAction': { en: 'volume | stop | resume | rebirth | resync', vi: 'volume | stop | resume | rebirth | resync' },
  'opt.controlZone': { en: 'only this zone (volume)', vi: 'chỉ vùng loa này (volume)' },
  'opt.correctionAudio': { en: 'recorded correction to air instead of synthesised speech', vi: 'bản ghi đính chính thay cho giọng đọc tổng hợp' },
  'control.needVolume': { en: 'control volume needs --volume 0-100', vi: 'lệnh volume cần --volume 0-100' },
  'control.action': {
    en: 'unknown control action {value}: expected volume, stop, resume, rebirth or resync',
    vi: 'lệnh không hợp lệ {value}: cần volume, stop, resume, rebirth hoặc resync',
  },
  'opt.to': { en: 'targets: station ids, group ids or all (comma-separated)', vi: 'đích: mã đài, mã cụm hoặc all (phân cách bằng dấu phẩy)' },
  'opt.at': { en: 'air at this time (HH:MM, YYYY-MM-DD HH:MM or ISO)', vi: 'phát lúc (HH:MM, YYYY-MM-DD HH:MM hoặc ISO)' },
  'opt.priority': { en: 'priority level', vi: 'mức ưu tiên' },
  'opt.zones': { en: 'only these zones (comma-separated)', vi: 'chỉ các cụm loa này (phân cách bằng dấu phẩy)' },
  'opt.repeat': { en: 'play N times (1-20)', vi: 'phát N lần (1-20)' },
  'opt.volume': { en: 'volume 0-100', vi: 'âm lượng 0-100' },
  'opt.chime': { en: 'play the chime first', vi: 'phát nhạc hiệu trước' },
  'opt.interrupt': { en: 'interrupt what is playing instead of waiting', vi: 'ngắt nội dung đang phát thay vì chờ' },
  'opt.title': { en: 'title for logs and reports', vi: 'tiêu đề cho nhật ký và báo cáo' },
  'opt.wait': { en: 'wait up to SECONDS for stations to confirm', vi: 'chờ tối đa SECONDS giây để các đài xác nhận' },
  'opt.test': {
    en: 'test alert: one signature, sent at once; stations play it as a priority item after their own "this is a test"',
    vi: 'cảnh báo thử nghiệm: một chữ ký, gửi ngay; các đài phát như bản tin ưu tiên, sau lời báo thử nghiệm của đài',
  },
  'opt.clientId': { en: 'MQTT client id (default from the fleet file)', vi: 'mã client MQTT (mặc định theo tệp cấu hình)' },
  'opt.verbose': { en: 'log every batch', vi: 'ghi nhật ký từng lô' },
  'opt.watch': { en: 'refresh every 2 seconds', vi: 'làm mới mỗi 2 giây' },
  'opt.limit': { en: 'how many (default 50)', vi: 'số lượng (mặc định 50)' },
  'opt.grace': { en: 'seconds late before "confirmed late" (default 60)', vi: 'số giây trễ trước khi tính là "phát trễ" (mặc định 60)' },
  'opt.csv': { en: 'CSV output', vi: 'xuất CSV' },
  'option.int': { en: '{option} expects a whole number from {min} to {max}, got "{value}"', vi: '{option} cần số nguyên từ {min} đến {max}, nhận được "{value}"' },
  'option.zone': { en: 'zone id "{value}" is invalid: expected [a-z0-9-]{1,64}', vi: 'mã cụm loa "{value}" không hợp lệ: cần [a-z0-9-]{1,64}' },

  // config files
  'config.unreadable': { en: '{file}: cannot read ({reason})', vi: '{file}: không đọc được ({reason})' },
  'config.invalid': { en: '{file}: {key} (line {line}): {expected}', vi: '{file}: {key} (dòng {line}): {expected}' },
  'fleet.missing': { en: 'fleet file {file} not found: pass --fleet FILE or set LOA_FLEET', vi: 'không tìm thấy tệp cấu hình {file}: dùng --fleet FILE hoặc đặt LOA_FLEET' },
  'fleet.expectedTimezone': { en: 'expected an IANA time zone such as Asia/Ho_Chi_Minh', vi: 'cần múi giờ IANA, ví dụ Asia/Ho_Chi_Minh' },
  'fleet.reservedId': { en: '"all" is reserved for every station', vi: '"all" được dành cho toàn bộ đài' },
  'fleet.duplicateId': { en: 'id "{id}" is already used by {before}', vi: 'mã "{id}" đã được dùng ở {before}' },
  'fleet.duplicateZone': { en: 'zone id "{id}" appears twice', vi: 'mã cụm loa "{id}" bị trùng' },
  'fleet.unknownGroup': { en: 'unknown group "{id}"; expected one of: {known}', vi: 'cụm "{id}" không tồn tại; cần một trong: {known}' },
  'fleet.stationIsCentralUser': { en: 'a station id must differ from broker.username', vi: 'mã đài phải khác broker.username' },
  'fleet.defaultKeyNotSigner': { en: 'expected a key listed under signers', vi: 'cần một khóa có trong signers' },
  'fleet.unknownStation': { en: 'unknown station "{id}"; known: {known}', vi: 'không có đài "{id}"; các đài: {known}' },

  // keys
  'keys.badName': { en: 'key name "{name}" is invalid: expected [a-z0-9-]{1,64}', vi: 'tên khóa "{name}" không hợp lệ: cần [a-z0-9-]{1,64}' },
  'keys.exists': {
    en: '{file} already exists (use --force to replace it; stations trusting the old key will reject new commands)',
    vi: '{file} đã tồn tại (dùng --force để thay; các đài tin khóa cũ sẽ từ chối lệnh mới)',
  },
  'keys.created': { en: 'created key {id}\nprivate key: {file} (mode 0600)\npublic key: {pub}', vi: 'đã tạo khóa {id}\nkhóa bí mật: {file} (quyền 0600)\nkhóa công khai: {pub}' },
  'keys.missingPublic': { en: 'no public key for {id} ({file}): run `loa keys init {id}`', vi: 'không có khóa công khai của {id} ({file}): chạy `loa keys init {id}`' },
  'keys.missingPrivate': { en: 'no private key for {id} at {file}', vi: 'không có khóa bí mật của {id} tại {file}' },
  'keys.noneForType': { en: 'no signing key allowed for {type}: pass --key or add one under signers', vi: 'không có khóa được phép ký {type}: dùng --key hoặc thêm vào signers' },
  'keys.notAllowed': { en: 'key {id} may not sign {type} (fleet signers policy)', vi: 'khóa {id} không được phép ký {type} (chính sách signers)' },
  'keys.tooOpen': { en: '{file} is readable by others: chmod 600 it', vi: '{file} có thể bị người khác đọc: chạy chmod 600' },
  'keys.mismatch': { en: 'private key {id} does not match its public key file', vi: 'khóa bí mật {id} không khớp tệp khóa công khai' },

  // broker
  'broker.wrote': { en: 'wrote {file}', vi: 'đã ghi {file}' },
  'broker.tlsGenerated': {
    en: 'TLS listener enabled with a generated CA and server certificate (CA: {ca}); set broker.tls.ca in the fleet file to it',
    vi: 'đã bật TLS với CA và chứng chỉ máy chủ tự tạo (CA: {ca}); đặt broker.tls.ca trong tệp cấu hình',
  },
  'broker.tlsCommented': {
    en: 'openssl not found: the TLS listener is written commented out; create certificates and enable it',
    vi: 'không có openssl: cổng TLS được ghi ở dạng chú thích; hãy tạo chứng chỉ rồi bật',
  },
  'broker.ownership': {
    en: 'mosquitto must be able to read {dir}/passwd, passwd-central, acl and tls/server.key (chown them to the mosquitto user)',
    vi: 'mosquitto phải đọc được {dir}/passwd, passwd-central, acl và tls/server.key (chown cho người dùng mosquitto)',
  },
  'broker.noCentralPassword': {
    en: 'central broker password file {file} is missing: run `loa broker config` first',
    vi: 'thiếu tệp mật khẩu broker trung tâm {file}: chạy `loa broker config` trước',
  },
  'broker.unreachable': { en: 'cannot connect to the broker ({urls}): {reason}', vi: 'không kết nối được broker ({urls}): {reason}' },

  // provision
  'provision.noSigners': { en: '{file}: signers is empty: a station would trust no key', vi: '{file}: signers trống: đài sẽ không tin khóa nào' },
  'provision.noCa': { en: 'broker CA {file} not found: run `loa broker config` or fix broker.tls.ca', vi: 'không thấy CA {file}: chạy `loa broker config` hoặc sửa broker.tls.ca' },
  'provision.wrote': { en: 'wrote {file} for {station} (new broker password)', vi: 'đã ghi {file} cho {station} (mật khẩu broker mới)' },
  'provision.reload': {
    en: 'password file {file} rewritten: the broker must reload it (systemctl reload mosquitto, or kill -HUP)',
    vi: 'đã ghi lại tệp mật khẩu {file}: broker cần nạp lại (systemctl reload mosquitto, hoặc kill -HUP)',
  },
  'provision.noBrokerDir': {
    en: 'no broker config found: run `loa broker config --out DIR` so the broker learns the new password',
    vi: 'chưa có cấu hình broker: chạy `loa broker config --out DIR` để broker nhận mật khẩu mới',
  },

  // targets, audio, time
  'targets.empty': { en: '--to names no target', vi: '--to không có đích nào' },
  'targets.unknown': { en: 'unknown target "{id}"; expected one of: {known}', vi: 'đích "{id}" không tồn tại; cần một trong: {known}' },
  'audio.oneOf': { en: 'give either an audio file or --text, not both', vi: 'chỉ dùng một trong hai: tệp âm thanh hoặc --text' },
  'audio.emptyText': { en: '--text is empty', vi: '--text trống' },
  'media.missing': { en: 'audio file {file} not found', vi: 'không tìm thấy tệp âm thanh {file}' },
  'media.empty': { en: 'audio file {file} is empty', vi: 'tệp âm thanh {file} trống' },
  'media.tooLarge': { en: 'audio file {file} is larger than {max} bytes', vi: 'tệp âm thanh {file} lớn hơn {max} byte' },
  'media.notStored': { en: 'media {sha256} is not in the central media store', vi: 'tệp {sha256} không có trong kho âm thanh trung tâm' },
  'speech.missingEspeak': { en: 'espeak-ng is not installed: install it with `apt-get install espeak-ng`', vi: 'chưa cài espeak-ng: cài bằng `apt-get install espeak-ng`' },
  'speech.missingFfmpeg': { en: 'ffmpeg is not installed: install it with `apt-get install ffmpeg`', vi: 'chưa cài ffmpeg: cài bằng `apt-get install ffmpeg`' },
  'speech.failed': { en: 'speech synthesis failed: {reason}', vi: 'tổng hợp giọng nói thất bại: {reason}' },
  'speech.badVoice': { en: 'voice "{voice}" is invalid', vi: 'giọng "{voice}" không hợp lệ' },
  'time.invalid': {
    en: '{option} "{value}": expected HH:MM, YYYY-MM-DD[ HH:MM] or an ISO time with offset',
    vi: '{option} "{value}": cần HH:MM, YYYY-MM-DD[ HH:MM] hoặc giờ ISO có múi giờ',
  },

  // announce / alert
  'announce.priority': {
    en: '--priority must be normal or priority (emergency is `loa alert`), got {value}',
    vi: '--priority phải là normal hoặc priority (khẩn cấp dùng `loa alert`), nhận {value}',
  },
  'send.sent': { en: 'sent {type} {id} to {count} station(s) via {topics}', vi: 'đã gửi {type} {id} tới {count} đài qua {topics}' },
  'alert.needsTo': { en: 'missing --to TARGETS', vi: 'thiếu --to TARGETS' },
  'alert.drafted': {
    en: 'live alert {id} drafted: {file}\nit needs {needed} more signature(s): loa alert approve {file} --key OTHER_KEY',
    vi: 'đã soạn cảnh báo thật {id}: {file}\ncần thêm {needed} chữ ký: loa alert approve {file} --key KHOA_KHAC',
  },
  'alert.noDraft': { en: 'draft {file} not found', vi: 'không tìm thấy bản nháp {file}' },
  'alert.badDraft': { en: 'draft {file} is not valid: {reason}', vi: 'bản nháp {file} không hợp lệ: {reason}' },
  'alert.draftSignerNotAllowed': { en: 'draft is signed by {key}, which may not sign alerts', vi: 'bản nháp được ký bởi {key}, khóa không được phép ký cảnh báo' },
  'alert.draftTampered': {
    en: 'signature by {key} does not verify: the draft was changed after signing; refusing to approve',
    vi: 'chữ ký của {key} không hợp lệ: bản nháp đã bị sửa sau khi ký; từ chối phê duyệt',
  },
  'alert.draftExpired': { en: 'draft {id} expired at {at}: draft a new alert', vi: 'bản nháp {id} đã hết hạn lúc {at}: hãy soạn cảnh báo mới' },
  'alert.approveNeedsKey': { en: 'approve needs --key (your own key)', vi: 'phê duyệt cần --key (khóa của bạn)' },
  'alert.sameKey': { en: 'key {key} has already signed: a second person must approve with a different key', vi: 'khóa {key} đã ký: người thứ hai phải phê duyệt bằng khóa khác' },
  'alert.approving': {
    en: 'approving {type} {id} "{title}" (test: {test}) for {target}, valid until {expires}',
    vi: 'phê duyệt {type} {id} "{title}" (thử nghiệm: {test}) cho {target}, hiệu lực đến {expires}',
  },
  'alert.unknownBroadcast': { en: 'no alert {id} in the central database', vi: 'không có cảnh báo {id} trong cơ sở dữ liệu trung tâm' },
  'alert.cancelTitle': { en: 'cancel {id}', vi: 'hủy {id}' },

  // waiting for delivery
  'wait.progress': { en: '{confirmed}/{total} started, {failed} failed', vi: '{confirmed}/{total} đã phát, {failed} lỗi' },
  'wait.noAck': { en: 'no answer', vi: 'không phản hồi' },
  'wait.partial': { en: 'not confirmed: {stations}', vi: 'chưa xác nhận: {stations}' },

  // schedule
  'schedule.badCron': { en: 'invalid cron expression: {reason}', vi: 'biểu thức cron không hợp lệ: {reason}' },
  'schedule.unknownZone': { en: 'zone "{zone}" does not exist at {stations}', vi: 'cụm loa "{zone}" không có ở {stations}' },
  'schedule.duplicateItem': { en: 'item id "{id}" reaches {station} twice (also {other})', vi: 'mục "{id}" tới đài {station} hai lần (cả {other})' },
  'schedule.valid': { en: 'valid: {items} item(s) for {stations} station(s)', vi: 'hợp lệ: {items} mục cho {stations} đài' },
  'schedule.pushed': { en: 'pushed schedule v{version} to {station} ({items} item(s))', vi: 'đã gửi lịch v{version} tới {station} ({items} mục)' },
  'diff.in-sync': { en: 'in sync', vi: 'khớp' },
  'diff.changed': { en: 'file changed', vi: 'tệp đã đổi' },
  'diff.not-pushed': { en: 'never pushed', vi: 'chưa gửi' },
  'diff.not-applied': { en: 'not applied yet', vi: 'chưa áp dụng' },

  // collector
  'collect.connected': { en: 'collector connected to {urls}', vi: 'bộ thu đã kết nối {urls}' },
  'collect.offline': { en: 'collector offline, reconnecting', vi: 'bộ thu mất kết nối, đang kết nối lại' },
  'collect.invalid': { en: 'ignored invalid message on {topic}: {reason}', vi: 'bỏ qua tin không hợp lệ trên {topic}: {reason}' },
  'collect.batch': { en: 'wrote {count} message(s)', vi: 'đã ghi {count} tin' },
  'collect.writeFailed': { en: 'database write failed, will retry: {reason}', vi: 'ghi cơ sở dữ liệu lỗi, sẽ thử lại: {reason}' },
  'collect.stopped': {
    en: 'collector stopped: {acks} acks ({duplicates} duplicates, {conflicts} conflicts), {states} states, {telemetry} telemetry, {invalid} invalid, {receipts} receipts',
    vi: 'bộ thu dừng: {acks} xác nhận ({duplicates} trùng, {conflicts} mâu thuẫn), {states} trạng thái, {telemetry} đo lường, {invalid} không hợp lệ, {receipts} biên nhận',
  },
  'collect.conflict': {
    en: 'CONFLICT: station {station} sent ack {seq} (store {db}) again with different content; both are kept in ack_conflicts',
    vi: 'MÂU THUẪN: đài {station} gửi lại xác nhận {seq} (kho {db}) với nội dung khác; cả hai được lưu trong ack_conflicts',
  },
  'collect.maintenance': {
    en: 'maintenance: cleared {cleared} retained clip(s), kept {kept}; pruned {pruned}',
    vi: 'bảo trì: xóa {cleared} tệp âm thanh lưu trên broker, giữ {kept}; dọn {pruned}',
  },
  'collect.maintenanceFailed': { en: 'maintenance failed, will retry tomorrow: {reason}', vi: 'bảo trì lỗi, sẽ thử lại ngày mai: {reason}' },

  // stations, reports
  'stations.online': { en: 'online', vi: 'trực tuyến' },
  'stations.offline': { en: 'OFFLINE', vi: 'MẤT KẾT NỐI' },
  'stations.unknown': { en: 'unknown', vi: 'chưa rõ' },
  'report.test': { en: 'TEST', vi: 'THỬ NGHIỆM' },
  'status.confirmed': { en: 'confirmed', vi: 'đã phát' },
  'status.confirmed-late': { en: 'confirmed late', vi: 'phát trễ' },
  'status.started': { en: 'started', vi: 'đang phát' },
  'status.failed': { en: 'failed', vi: 'lỗi' },
  'status.preempted': { en: 'preempted', vi: 'bị ngắt' },
  'status.missed': { en: 'missed', vi: 'bỏ lỡ' },
  'status.cancelled': { en: 'cancelled', vi: 'đã hủy' },
  'status.not-confirmed': { en: 'not confirmed', vi: 'chưa xác nhận' },
  'status.unreachable': { en: 'unreachable', vi: 'không liên lạc được' },
  'status.pending': { en: 'pending', vi: 'chờ phát' },
  'col.station': { en: 'STATION', vi: 'ĐÀI' },
  'col.name': { en: 'NAME', vi: 'TÊN' },
  'col.online': { en: 'ONLINE', vi: 'KẾT NỐI' },
  'col.lastSeen': { en: 'LAST SEEN', vi: 'LẦN CUỐI' },
  'col.epoch': { en: 'EPOCH', vi: 'EPOCH' },
  'col.nowPlaying': { en: 'NOW PLAYING', vi: 'ĐANG PHÁT' },
  'col.schedule': { en: 'SCHEDULE WANT/HAVE', vi: 'LỊCH CẦN/CÓ' },
  'col.clock': { en: 'CLOCK', vi: 'LỆCH GIỜ' },
  'col.disk': { en: 'DISK FREE', vi: 'ĐĨA TRỐNG' },
  'col.outbox': { en: 'OUTBOX', vi: 'HÀNG ĐỢI' },
  'col.lastError': { en: 'LAST ERROR', vi: 'LỖI GẦN NHẤT' },
  'col.state': { en: 'STATE', vi: 'TRẠNG THÁI' },
  'col.status': { en: 'STATUS', vi: 'TRẠNG THÁI' },
  'col.at': { en: 'AT', vi: 'LÚC' },
  'col.reason': { en: 'REASON', vi: 'LÝ DO' },
  'col.broadcast': { en: 'BROADCAST', vi: 'BẢN TIN' },
  'col.title': { en: 'TITLE', vi: 'TIÊU ĐỀ' },
  'col.planned': { en: 'PLANNED', vi: 'DỰ KIẾN' },
  'col.started': { en: 'STARTED', vi: 'BẮT ĐẦU' },
  'col.type': { en: 'TYPE', vi: 'LOẠI' },
  'col.delivery': { en: 'DELIVERY', vi: 'KẾT QUẢ' },
  'col.item': { en: 'ITEM', vi: 'MỤC' },
  'col.key': { en: 'KEY', vi: 'KHÓA' },
  'col.publicKey': { en: 'PUBLIC KEY', vi: 'KHÓA CÔNG KHAI' },
  'col.allow': { en: 'MAY SIGN', vi: 'ĐƯỢC KÝ' },
  'col.private': { en: 'PRIVATE', vi: 'BÍ MẬT' },
  'col.pushed': { en: 'PUSHED', vi: 'ĐÃ GỬI' },
  'col.applied': { en: 'APPLIED', vi: 'ĐÃ ÁP DỤNG' },
  'col.changes': { en: 'CHANGES', vi: 'THAY ĐỔI' },
  'provision.sameKeyTwice': {
    en: 'signers {a} and {b} are the same public key: one person could meet the alert quorum alone; give each signer its own key',
    vi: 'hai người ký {a} và {b} dùng cùng một khóa công khai: một người có thể tự đủ số chữ ký cảnh báo; mỗi người ký cần khóa riêng',
  },
  'opt.stationPort': {
    en: 'port of a plain station listener (a closed LAN or one machine); stations get TLS otherwise',
    vi: 'cổng nghe không mã hóa cho các đài (mạng nội bộ kín hoặc một máy); nếu không các đài dùng TLS',
  },
  'keys.otherOwner': {
    en: '{path} belongs to another account (uid {uid}): a private key must be readable by its owner alone',
    vi: '{path} thuộc tài khoản khác (uid {uid}): khóa bí mật chỉ chủ sở hữu được đọc',
  },
  'keys.readableByOthers': {
    en: '{path} is readable by other accounts (mode {mode}): chmod 700 the key directory and 600 the key',
    vi: '{path} tài khoản khác đọc được (quyền {mode}): chmod 700 thư mục khóa và 600 tệp khóa',
  },
  'keys.secondAlertKey': {
    en: '{dir} already holds the private key of alert signer(s) {others}: keeping {id} beside it would let one account meet the two-person rule alone. Each official runs `loa keys init` in their own account (or with their own LOA_KEY_DIR)',
    vi: '{dir} đã chứa khóa bí mật của người ký cảnh báo {others}: để {id} cùng chỗ thì một tài khoản tự đủ quy tắc hai người. Mỗi cán bộ chạy `loa keys init` trong tài khoản riêng (hoặc LOA_KEY_DIR riêng)',
  },
  'keys.badPublic': { en: 'not a public key: {reason}', vi: 'không phải khóa công khai: {reason}' },
  'keys.sameAs': {
    en: 'the public key of {id} is already recorded as {other}: one key under two names would count twice toward the alert quorum',
    vi: 'khóa công khai của {id} đã được ghi là {other}: một khóa hai tên sẽ bị tính hai lần vào số chữ ký cảnh báo',
  },
  'keys.imported': { en: 'recorded public key {id}: {file}', vi: 'đã ghi khóa công khai {id}: {file}' },
  'cmd.keys.import': {
    en: "record another official's public key (made with `loa keys init` in their account)",
    vi: 'ghi khóa công khai của cán bộ khác (tạo bằng `loa keys init` trong tài khoản của họ)',
  },
  'opt.keyDir': {
    en: 'directory of YOUR private keys (default $LOA_KEY_DIR or ~/.config/loa/keys)',
    vi: 'thư mục khóa bí mật CỦA BẠN (mặc định $LOA_KEY_DIR hoặc ~/.config/loa/keys)',
  },
  'alert.sameKeyOtherName': {
    en: 'key {key} is the same public key as {other}, which already signed: a second person must approve with their own key',
    vi: 'khóa {key} trùng khóa công khai với {other} đã ký: người thứ hai phải phê duyệt bằng khóa của chính mình',
  },
  'alert.sameKeyFile': {
    en: '{file} is the very key file {other} signed with: a second person must approve with their own key',
    vi: '{file} chính là tệp khóa {other} đã dùng để ký: người thứ hai phải phê duyệt bằng khóa của chính mình',
  },
  'alert.holdsDrafterKey': {
    en: "this account also holds the private key of {other}, who drafted it: approve from the second official's own account, where only their key is readable",
    vi: 'tài khoản này cũng giữ khóa bí mật của {other}, người soạn bản nháp: hãy phê duyệt từ tài khoản riêng của cán bộ thứ hai',
  },
  'alert.cancelDrafted': {
    en: 'cancel of live alert {id} and its correction drafted: {file}\na second official approves both: loa alert approve {file} --key OTHER_KEY',
    vi: 'đã soạn lệnh hủy cảnh báo thật {id} kèm bản đính chính: {file}\ncán bộ thứ hai phê duyệt cả hai: loa alert approve {file} --key KHOA_KHAC',
  },
  'arg.publicKey': { en: 'base64 public key (44 characters, from `loa keys init`)', vi: 'khóa công khai base64 (44 ký tự, từ `loa keys init`)' },
  'cmd.media': { en: 'media published to the broker', vi: 'âm thanh đã gửi lên broker' },
  'cmd.media.gc': {
    en: 'clear retained clips that no schedule, draft or recent broadcast uses',
    vi: 'xóa các tệp âm thanh lưu trên broker không còn lịch, bản nháp hay bản tin gần đây nào dùng',
  },
  'opt.dryRun': { en: 'only say what would be done', vi: 'chỉ cho biết sẽ làm gì' },
  'opt.keepDays': { en: 'keep clips of broadcasts from the last N days (default 14)', vi: 'giữ âm thanh của các bản tin trong N ngày gần nhất (mặc định 14)' },
  'cmd.db': { en: 'central database', vi: 'cơ sở dữ liệu trung tâm' },
  'cmd.db.prune': { en: 'delete acks, state history and finished broadcasts older than N days', vi: 'xóa xác nhận, lịch sử trạng thái và bản tin đã xong cũ hơn N ngày' },
  'opt.olderThan': { en: 'age in days, e.g. 400d', vi: 'số ngày, ví dụ 400d' },
  'db.olderThan': { en: '--older-than {value}: expected a number of days such as 400d', vi: '--older-than {value}: cần số ngày, ví dụ 400d' },
  'db.pruned': { en: 'pruned rows older than {days} days: {rows}', vi: 'đã xóa các dòng cũ hơn {days} ngày: {rows}' },
  'media.gcDone': { en: 'cleared {cleared} retained clip(s); kept {kept}', vi: 'đã xóa {cleared} tệp âm thanh trên broker; giữ {kept}' },
  'media.gcDry': { en: 'would clear {cleared} retained clip(s); keep {kept}', vi: 'sẽ xóa {cleared} tệp âm thanh trên broker; giữ {kept}' },
  'stations.storeFault': { en: 'STORE REFUSES WRITES', vi: 'KHO DỮ LIỆU KHÔNG GHI ĐƯỢC' },
  'stations.storeReset': { en: 'store reset', vi: 'kho dữ liệu đã làm mới' },
  'stations.conflicts': { en: '{n} ack conflict(s)', vi: '{n} xác nhận mâu thuẫn' },
  'stations.stopped': { en: 'STOPPED (only emergencies air)', vi: 'ĐANG DỪNG (chỉ phát khẩn cấp)' },
  'keys.importHint': {
    en: 'the fleet key directory is not writable from this account: give the administrator this line to run: loa keys import {id} {pub}',
    vi: 'tài khoản này không ghi được thư mục khóa của hồ sơ: đưa quản trị viên dòng sau để chạy: loa keys import {id} {pub}',
  },
  'announce.tooFar': {
    en: '--at: an announcement may be at most {days} days ahead (a command is valid for 7 days); use a schedule for later dates',
    vi: '--at: thông báo chỉ đặt trước tối đa {days} ngày (lệnh có hiệu lực 7 ngày); hãy dùng lịch phát cho ngày xa hơn',
  },
} satisfies Record<string, Entry>;

/** The daemon team adds its section here. */
const daemon = {
  'station.description': {
    en: 'Loa ward-box daemon: receives signed broadcasts over MQTT and plays them on the speaker zones',
    vi: 'Dịch vụ đài Loa: nhận bản tin đã ký qua MQTT và phát ra các vùng loa',
  },
  'station.run': { en: 'run the station daemon (the default)', vi: 'chạy dịch vụ đài (mặc định)' },
  'station.log': { en: 'show the as-run log: what played, where, planned vs actual, outcome', vi: 'xem nhật ký phát sóng: đã phát gì, ở đâu, giờ dự kiến và thực tế, kết quả' },
  'station.doctor': { en: 'check config, ffmpeg, outputs, disk, broker and clock', vi: 'kiểm tra cấu hình, ffmpeg, đầu ra loa, ổ đĩa, broker và đồng hồ' },
  'station.opt.config': { en: 'station config file (YAML)', vi: 'tệp cấu hình đài (YAML)' },
  'station.opt.from': { en: 'from this date/time (ISO)', vi: 'từ ngày/giờ (ISO)' },
  'station.opt.to': { en: 'up to this date/time (ISO)', vi: 'đến ngày/giờ (ISO)' },
  'station.opt.limit': { en: 'at most this many rows', vi: 'tối đa bấy nhiêu dòng' },
  'log.col.planned': { en: 'planned (UTC)', vi: 'dự kiến (UTC)' },
  'log.col.started': { en: 'started', vi: 'bắt đầu' },
  'log.col.ended': { en: 'ended', vi: 'kết thúc' },
  'log.col.zone': { en: 'zone', vi: 'vùng loa' },
  'log.col.priority': { en: 'priority', vi: 'mức ưu tiên' },
  'log.col.outcome': { en: 'outcome', vi: 'kết quả' },
  'log.col.broadcast': { en: 'broadcast', vi: 'bản tin' },
  'log.col.title': { en: 'title', vi: 'tiêu đề' },
  'log.empty': { en: '(nothing has aired yet)', vi: '(chưa phát bản tin nào)' },
  'station.opt.doctorWait': {
    en: 'when the daemon is not running, seconds to wait for a live heartbeat from the collector (clock offset)',
    vi: 'khi trạm chưa chạy: số giây chờ tín hiệu từ máy trung tâm để đo lệch đồng hồ',
  },
  'doctor.ok': { en: 'ok  ', vi: 'tốt ' },
  'doctor.fail': { en: 'FAIL', vi: 'LỖI' },
  'station.opt.clearStoreReset': {
    en: 'stop reporting a store reset (after someone has looked at the file moved aside)',
    vi: 'thôi báo việc kho dữ liệu đã làm mới (sau khi đã kiểm tra tệp được chuyển sang bên)',
  },
} satisfies Record<string, Entry>;

/** What residents hear: always Vietnamese, whatever the operator's locale. */
const SPOKEN = {
  correction: 'Thông báo đính chính: cảnh báo vừa phát đã được hủy bỏ. Xin bà con bỏ qua cảnh báo trước đó và tiếp tục sinh hoạt bình thường.',
  correctionTitle: 'Đính chính cảnh báo',
} as const;

const catalogue = { ...cli, ...daemon };
export type MessageKey = keyof typeof catalogue;

export function languageFromEnv(env: NodeJS.ProcessEnv = process.env): Lang {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

let current: Lang = languageFromEnv();

export function setLanguage(lang: Lang): void {
  current = lang;
}

export function language(): Lang {
  return current;
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}, lang: Lang = current): string {
  const entry: Entry | undefined = (catalogue as Record<string, Entry>)[key];
  const text = entry ? entry[lang] : key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export function spoken(key: keyof typeof SPOKEN): string {
  return SPOKEN[key];
}
