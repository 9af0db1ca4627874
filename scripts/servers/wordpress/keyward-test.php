<?php
// Must-use plugin of the WordPress test sites.
//
// KEYWARD_WP_PLAIN_PERMALINKS=1: plain permalinks (the REST API only at ?rest_route=), like a
// site on a web server without URL rewriting (the router answers 404 for other paths).
if (getenv('KEYWARD_WP_PLAIN_PERMALINKS')) {
    add_filter('pre_option_permalink_structure', '__return_empty_string');
}

// KEYWARD_WP_REST_FOR_USERS_ONLY=1: the REST API answers signed-in users only, as plugins such
// as "Disable REST API" make it (the index too: an app cannot read it before signing in).
if (getenv('KEYWARD_WP_REST_FOR_USERS_ONLY')) {
    add_filter('rest_authentication_errors', function ($result) {
        if (!empty($result)) {
            return $result;
        }
        if (!is_user_logged_in()) {
            return new WP_Error('rest_login_required', 'Only signed-in users can use the REST API.', array('status' => 401));
        }
        return $result;
    }, 99);
}
