package docschema

import (
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The message catalogue: every sentence a schema problem is told in, keyed
// by problem kind, in English and Chinese. Arguments are positional (%[1]s)
// so the two languages may order them differently. Values are quoted by the
// caller, so a reader can tell an empty value ("") from a missing one.
var templates = map[string][2]string{ // key -> {en, zh}
	"required":                {`required field is missing: add %[1]s: (%[2]s)`, `缺少必填字段：请添加 %[1]s:（%[2]s）`},
	"required.notitle":        {`required field is missing: add %[1]s:`, `缺少必填字段：请添加 %[1]s:`},
	"unknown":                 {`unknown field %[1]s; allowed here: %[2]s`, `未知字段 %[1]s；此处允许：%[2]s`},
	"unknown.suggest":         {`unknown field %[1]s; did you mean %[2]s? (allowed here: %[3]s)`, `未知字段 %[1]s；是否应为 %[2]s？（此处允许：%[3]s）`},
	"unknown.none":            {`unknown field %[1]s; no fields are allowed here`, `未知字段 %[1]s；此处不允许任何字段`},
	"type":                    {`expected %[1]s, found %[2]s`, `此处应为%[1]s，实际为%[2]s`},
	"type.quote":              {`%[1]s; write it in quotes ("%[2]s") so YAML keeps it as text`, `%[1]s；请加引号写成 "%[2]s"，YAML 才会把它当作文本`},
	"type.bool":               {`%[1]s; write true or false`, `%[1]s；请写 true 或 false`},
	"empty":                   {`empty: write the %[1]s`, `为空：请填写%[1]s`},
	"empty.notitle":           {`empty: write a value here`, `为空：请在此填写内容`},
	"min-length":              {`too short: at least %[1]s characters, this has %[2]s`, `太短：至少 %[1]s 个字符，现为 %[2]s 个`},
	"max-length":              {`too long: at most %[1]s characters, this has %[2]s; shorten it`, `太长：最多 %[1]s 个字符，现为 %[2]s 个；请缩短`},
	"min-items":               {`list at least %[1]s entries here (%[2]s); there are %[3]s`, `请至少列出 %[1]s 项（%[2]s），现有 %[3]s 项`},
	"min-items.one":           {`list at least one entry here (%[2]s); there are %[3]s`, `请至少列出 %[1]s 项（%[2]s），现有 %[3]s 项`},
	"unique-items":            {`entries [%[1]s] and [%[2]s] are the same; remove one`, `第 [%[1]s] 项与第 [%[2]s] 项相同；请删除其一`},
	"const":                   {`must be %[1]s here, not %[2]s`, `此处必须为 %[1]s，而不是 %[2]s`},
	"const.missing":           {`must be %[1]s here`, `此处必须为 %[1]s`},
	"enum":                    {`%[1]s is not allowed here; write one of %[2]s`, `%[1]s 不是此处允许的值；请填写以下之一：%[2]s`},
	"enum.suggest":            {`%[1]s is not allowed here; did you mean %[3]s? (one of %[2]s)`, `%[1]s 不是此处允许的值；是否应为 %[3]s？（可选：%[2]s）`},
	"minimum":                 {`must be at least %[1]s, not %[2]s`, `不能小于 %[1]s（现为 %[2]s）`},
	"maximum":                 {`must be at most %[1]s, not %[2]s`, `不能大于 %[1]s（现为 %[2]s）`},
	"min-properties":          {`write at least %[1]s field(s) here`, `此处至少填写 %[1]s 个字段`},
	"date-time.offset":        {`%[1]s has no timezone offset: add it, for example %[2]s`, `%[1]s 缺少时区偏移：请加上，例如 %[2]s`},
	"date-time.space":         {`%[1]s: put a T between the date and the time, for example %[2]s`, `%[1]s：日期和时间之间请用 T 连接，例如 %[2]s`},
	"date-time.date":          {`%[1]s is a date without a time: write the time and the timezone offset too, for example %[2]s`, `%[1]s 只有日期：请同时写出时间和时区偏移，例如 %[2]s`},
	"date-time":               {`%[1]s is not a date and time: write it as %[2]s (date, T, time, timezone offset)`, `%[1]s 不是有效的日期时间：请写成 %[2]s（日期、T、时间、时区偏移）`},
	"date":                    {`%[1]s is not a date: write it as 2026-12-12 (year-month-day)`, `%[1]s 不是有效日期：请写成 2026-12-12（年-月-日）`},
	"email":                   {`%[1]s is not an email address: write it as name@example.com`, `%[1]s 不是电子邮件地址：请写成 name@example.com 的形式`},
	"uri":                     {`%[1]s is not a link: write the full address, starting with https://`, `%[1]s 不是链接：请写完整地址，以 https:// 开头`},
	"pattern":                 {`%[1]s does not have the form required here (pattern %[2]s)`, `%[1]s 不符合此处要求的格式（模式 %[2]s）`},
	"pattern.login":           {`%[1]s is not a login: a login is letters, digits and hyphens, starting with a letter or digit, at most 39 characters`, `%[1]s 不是登录名：登录名由字母、数字和连字符组成，以字母或数字开头，最多 39 个字符`},
	"pattern.login.empty":     {`empty: write the login of a person of the policy`, `为空：请填写策略中人员的登录名`},
	"pattern.release":         {`%[1]s is not a release id: write REL-, the year, a hyphen and 4 to 6 digits, for example REL-2026-0042`, `%[1]s 不是发布编号：格式为 REL-年份-4 至 6 位数字，例如 REL-2026-0042`},
	"pattern.change":          {`%[1]s is not a change id: write CHG-, the year, a hyphen and 4 to 6 digits, for example CHG-2026-0107`, `%[1]s 不是变更编号：格式为 CHG-年份-4 至 6 位数字，例如 CHG-2026-0107`},
	"pattern.digest":          {`%[1]s is not a digest: write sha256: and the 64 lowercase hex digits of the artifact's SHA-256`, `%[1]s 不是摘要：请写 sha256: 加上制品 SHA-256 的 64 位小写十六进制数字`},
	"pattern.digest.approval": {`%[1]s is not a digest: copy the one relgate digest RELEASE GATE prints (sha256: and 64 lowercase hex digits)`, `%[1]s 不是摘要：请复制 relgate digest 发布编号 关卡 输出的摘要（sha256: 加 64 位小写十六进制数字）`},
	"pattern.item":            {`%[1]s is not an id: lowercase letters, digits and hyphens, starting with a letter or digit, at most 63 characters`, `%[1]s 不是有效编号：由小写字母、数字和连字符组成，以字母或数字开头，最多 63 个字符`},
	"pattern.name":            {`%[1]s is not a name relgate accepts here: lowercase letters, digits and hyphens, starting with a letter, at most %[2]s characters`, `%[1]s 不是此处可用的名称：由小写字母、数字和连字符组成，以字母开头，最多 %[2]s 个字符`},
	"pattern.token":           {`%[1]s is not an id: letters, digits, dots, underscores and hyphens, starting with a letter or digit, at most %[2]s characters`, `%[1]s 不是有效标识：由字母、数字、点、下划线和连字符组成，以字母或数字开头，最多 %[2]s 个字符`},
	"pattern.quarter":         {`%[1]s is not a quarter: write the year, Q and 1 to 4, for example 2026Q4`, `%[1]s 不是季度：请写年份、Q 和 1 至 4，例如 2026Q4`},
	"pattern.repository":      {`%[1]s is not a repository: write owner/name, for example grid-it/releases`, `%[1]s 不是仓库：请写成 所有者/名称，例如 grid-it/releases`},
	"pattern.commit":          {`%[1]s is not a commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits`, `%[1]s 不是提交编号：应为 40 位（SHA-1）或 64 位（SHA-256）小写十六进制数字`},
	"pattern.key":             {`not a public key: paste an armored OpenPGP key (-----BEGIN PGP PUBLIC KEY BLOCK-----) or an SSH key line (ssh-ed25519 AAAA…)`, `不是公钥：请粘贴 ASCII 封装的 OpenPGP 公钥（-----BEGIN PGP PUBLIC KEY BLOCK-----）或一行 SSH 公钥（ssh-ed25519 AAAA…）`},
	"property-name":           {`%[1]s is not a name relgate accepts here: lowercase letters, digits and hyphens, starting with a letter`, `%[1]s 不是此处可用的名称：由小写字母、数字和连字符组成，以字母开头`},
	"suggest":                 {`%[1]s; did you mean %[2]s?`, `%[1]s；是否应为 %[2]s？`},
	"closest.people":          {`%[1]s; the closest people of the policy: %[2]s`, `%[1]s；策略中最接近的人员：%[2]s`},
	"people":                  {`%[1]s; people of the policy: %[2]s`, `%[1]s；策略中的人员：%[2]s`},
	"closest.names":           {`%[1]s; the closest known: %[2]s`, `%[1]s；最接近的已知名称：%[2]s`},
	"reason":                  {`%[1]s (%[2]s)`, `%[1]s（%[2]s）`},
	"other":                   {`%[1]s`, `%[1]s`},

	// The YAML stage (yamldoc) and the header check (loader); English as
	// yamldoc and the loader say it.
	"yaml.anchor":                {`anchors and aliases (&, *) are not allowed: write the value of &%[1]s out`, `不允许使用锚点和别名（&、*）：请删除 &%[1]s，直接写出值`},
	"yaml.anchor.used":           {`anchors and aliases (&, *) are not allowed: write the value of &%[1]s out where *%[1]s is used (line %[2]s)`, `不允许使用锚点和别名（&、*）：请在使用 *%[1]s 的地方（第 %[2]s 行）直接写出 &%[1]s 的值`},
	"yaml.alias":                 {`anchors and aliases (&, *) are not allowed; write the value out`, `不允许使用锚点和别名（&、*）；请直接写出值`},
	"yaml.duplicate":             {`duplicate key %[1]s (first on line %[2]s)`, `重复的键 %[1]s（首次出现在第 %[2]s 行）；请只保留一个`},
	"yaml.key":                   {`keys are plain names; merge keys (<<), anchors and complex keys are not allowed`, `键须为普通名称；不允许使用合并键（<<）、锚点和复杂键`},
	"yaml.tag":                   {`tag %[1]s is not allowed`, `不允许使用标签 %[1]s；请删除它`},
	"yaml.syntax":                {`YAML syntax: %[1]s`, `YAML 语法错误：%[1]s`},
	"yaml.empty":                 {`file is empty`, `文件为空`},
	"yaml.second-document":       {`a file holds one document; remove the second '---' document`, `一个文件只能包含一个文档；请删除第二个 '---' 文档`},
	"yaml.no-document":           {`file holds no YAML document`, `文件中没有 YAML 文档`},
	"yaml.not-mapping":           {`a document is a mapping of fields (key: value)`, `文档须由字段组成（键: 值）`},
	"header.api-version-missing": {`required field is missing; every document starts with apiVersion: %[1]s`, `缺少必填字段：每个文档以 apiVersion: %[1]s 开头`},
	"header.api-version":         {`apiVersion %[2]s is not supported; this relgate reads %[1]s`, `不支持 apiVersion %[2]s；此版本 relgate 读取 %[1]s`},
	"header.kind-missing":        {`required field is missing; this file must be kind: %[1]s`, `缺少必填字段：此文件须为 kind: %[1]s`},
	"header.kind":                {`this file must hold a %[1]s, not %[2]s (its place in the repository decides its kind)`, `此文件须为 %[1]s，而不是 %[2]s（文件在仓库中的位置决定其类型）`},

	// The layout of the repository (loader).
	"layout.symlink":      {`symlinks and submodules are not allowed in a release repository; replace it with the file or folder`, `发布仓库中不允许使用符号链接和子模块；请替换为实际的文件或目录`},
	"layout.misplaced":    {`file is not where relgate expects documents; see the repository layout in the README (files end in .yaml)`, `此文件不在 relgate 读取文档的位置；请参阅 README 中的仓库结构（文件以 .yaml 结尾）`},
	"layout.no-policy":    {`the policy file relgate.yaml is missing at the repository root`, `仓库根目录缺少策略文件 relgate.yaml`},
	"layout.unknown-file": {`unknown file in a release folder; expected one of %[1]s or approvals/<gate>.<person>.yaml`, `发布目录中的未知文件；应为 %[1]s 之一，或 approvals/<关口>.<人员>.yaml`},
	"yaml.too-large":      {`file is too large; the limit is %[1]s bytes`, `文件过大；上限为 %[1]s 字节`},

	// JSON types, as a person names them.
	"t.string":  {`text`, `文本`},
	"t.number":  {`a number`, `数字`},
	"t.integer": {`a whole number`, `整数`},
	"t.boolean": {`true or false`, `布尔值（true 或 false）`},
	"t.array":   {`a list`, `列表`},
	"t.object":  {`fields (key: value)`, `字段（键: 值）`},
	"t.null":    {`nothing`, `空值`},
	"t.or":      {`%[1]s or %[2]s`, `%[1]s或%[2]s`},
}

var printers = func() map[string]*message.Printer {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for key, t := range templates {
		_ = b.SetString(language.English, key, t[0])
		_ = b.SetString(language.Chinese, key, t[1])
	}
	return map[string]*message.Printer{
		"en": message.NewPrinter(language.English, message.Catalog(b)),
		"zh": message.NewPrinter(language.Chinese, message.Catalog(b)),
	}
}()

// printer is the printer of a language; anything but en is Chinese, the
// procedure's language.
func printer(lang string) *message.Printer {
	if p, ok := printers[lang]; ok {
		return p
	}
	return printers["zh"]
}
