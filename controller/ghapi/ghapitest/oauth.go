package ghapitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// This file is the fake's OAuth web application flow of a GitHub App
// (docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app)
// and the reads a sign-in makes: the signed-in user (GET /user) and a
// user's permission on a repository
// (GET /repos/{owner}/{repo}/collaborators/{username}/permission).

type oauthCode struct {
	login, clientID, redirect string
}

type oauthState struct {
	apps     map[string]string // client id → secret
	signInAs string
	codes    map[string]oauthCode
	// users are the logins GitHub knows; perms their permission by repository.
	users      map[string]bool
	perms      map[string]map[string]string
	userTokens map[string]string // token → login
	seq        int
}

func (o *oauthState) init() {
	if o.apps == nil {
		o.apps, o.codes, o.users, o.perms, o.userTokens = map[string]string{}, map[string]oauthCode{}, map[string]bool{},
			map[string]map[string]string{}, map[string]string{}
	}
}

// WebURL is the fake's web address (for ghapi.OAuthConfig.WebURL): the
// sign-in pages are at its root whatever the API's Prefix.
func (s *Server) WebURL() string { return s.Server.URL }

// SetOAuthApp registers an App's OAuth client id and secret.
func (s *Server) SetOAuthApp(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.init()
	s.oauth.apps[clientID] = secret
}

// SignInAs is the user at the browser: the authorize page signs them in
// and sends the browser back with a code for them.
func (s *Server) SignInAs(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.init()
	s.oauth.signInAs = login
	s.oauth.users[login] = true
}

// SetPermission sets login's permission on repo ("owner/name"): admin,
// write, read or none (GitHub's "permission" field).
func (s *Server) SetPermission(repo, login, perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.init()
	s.oauth.users[login] = true
	if s.oauth.perms[repo] == nil {
		s.oauth.perms[repo] = map[string]string{}
	}
	s.oauth.perms[repo][login] = perm
}

var rePermission = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/collaborators/([^/]+)/permission$`)

// serveOAuth answers the sign-in's endpoints; false for any other. The
// caller holds the lock.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request, body []byte) bool {
	s.oauth.init()
	switch {
	case r.URL.Path == "/login/oauth/authorize":
		s.authorize(w, r)
		return true
	case r.URL.Path == "/login/oauth/access_token":
		s.accessToken(w, r, body)
		return true
	}
	p, ok := strings.CutPrefix(r.URL.Path, s.Prefix)
	if !ok {
		return false
	}
	switch {
	case p == "/user":
		if r.Method != http.MethodGet {
			return false
		}
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		login, known := s.oauth.userTokens[tok]
		if (scheme != "Bearer" && scheme != "token") || !known {
			if !known && s.isInstallationToken(tok) {
				s.violate("GET /user: called with an installation token; /user needs the user's token")
			}
			writeJSON(w, 401, map[string]any{"message": "Bad credentials"})
			return true
		}
		writeJSON(w, 200, map[string]any{"login": login, "id": 1000 + len(login), "type": "User"})
		return true
	case rePermission.MatchString(p):
		if r.Method != http.MethodGet {
			return false
		}
		_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if _, isUser := s.oauth.userTokens[tok]; isUser {
			s.violate("GET %s: asked with a user's token; relgate asks with the App's", p)
		}
		if !s.authorised(r) {
			writeJSON(w, 401, map[string]any{"message": "Bad credentials"})
			return true
		}
		m := rePermission.FindStringSubmatch(p)
		login := m[3]
		if !s.oauth.users[login] {
			writeJSON(w, 404, map[string]any{"message": fmt.Sprintf("%s is not a user", login)})
			return true
		}
		perm := s.oauth.perms[m[1]+"/"+m[2]][login]
		if perm == "" {
			perm = "none"
		}
		writeJSON(w, 200, map[string]any{"permission": perm, "role_name": perm, "user": user(login, "User")})
		return true
	}
	return false
}

func (s *Server) isInstallationToken(tok string) bool {
	return strings.HasPrefix(tok, "ghs_")
}

// authorize is the page GitHub shows; the fake signs in SignInAs at once.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method != http.MethodGet {
		s.violate("%s /login/oauth/authorize: want GET (a browser redirect)", r.Method)
	}
	id, state, redirect := q.Get("client_id"), q.Get("state"), q.Get("redirect_uri")
	if _, ok := s.oauth.apps[id]; !ok {
		s.violate("GET /login/oauth/authorize: unknown client_id %q", id)
		http.Error(w, "unknown application", http.StatusNotFound)
		return
	}
	if state == "" {
		s.violate("GET /login/oauth/authorize: no state (the sign-in has no CSRF protection)")
	}
	u, err := url.Parse(redirect)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		s.violate("GET /login/oauth/authorize: redirect_uri %q is not an absolute URL", redirect)
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	if s.oauth.signInAs == "" {
		http.Error(w, "nobody signs in (the test did not call SignInAs)", http.StatusForbidden)
		return
	}
	s.oauth.seq++
	code := fmt.Sprintf("code%d", s.oauth.seq)
	s.oauth.codes[code] = oauthCode{login: s.oauth.signInAs, clientID: id, redirect: redirect}
	back := u.Query()
	back.Set("code", code)
	back.Set("state", state)
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// accessToken exchanges a code (once) for a user token; like GitHub, a bad
// code or credential is a 200 with an error field.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		s.violate("%s /login/oauth/access_token: want POST", r.Method)
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	var f map[string]string
	switch ct := r.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		v, err := url.ParseQuery(string(body))
		if err != nil {
			s.violate("POST /login/oauth/access_token: form body: %v", err)
		}
		f = map[string]string{}
		for k := range v {
			f[k] = v.Get(k)
		}
	case strings.HasPrefix(ct, "application/json"):
		if err := json.Unmarshal(body, &f); err != nil {
			s.violate("POST /login/oauth/access_token: JSON body: %v", err)
		}
	default:
		s.violate("POST /login/oauth/access_token: Content-Type %q, want a form or JSON", ct)
	}
	for k := range f {
		switch k {
		case "client_id", "client_secret", "code", "redirect_uri", "repository_id", "code_verifier":
		default:
			s.violate("POST /login/oauth/access_token: unknown field %q", k)
		}
	}
	wantJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	answer := func(v map[string]string) {
		if wantJSON {
			writeJSON(w, 200, v)
			return
		}
		q := url.Values{}
		for k, x := range v {
			q.Set(k, x)
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte(q.Encode()))
	}
	secret, known := s.oauth.apps[f["client_id"]]
	if !known || f["client_secret"] != secret {
		answer(map[string]string{"error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect."})
		return
	}
	c, ok := s.oauth.codes[f["code"]]
	delete(s.oauth.codes, f["code"])
	if !ok || c.clientID != f["client_id"] || (f["redirect_uri"] != "" && f["redirect_uri"] != c.redirect) {
		answer(map[string]string{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
		return
	}
	s.oauth.seq++
	tok := fmt.Sprintf("ghu_user%d", s.oauth.seq)
	s.oauth.userTokens[tok] = c.login
	answer(map[string]string{"access_token": tok, "token_type": "bearer", "scope": ""})
}
