<!-- title: Trợ giúp pháp lý lưu động -->
<h2>Trợ giúp pháp lý lưu động tại xã Trọng Hóa, huyện Minh Hóa</h2>
<p class="date">{{days_ago:11:long}}</p>
<p>Trung tâm Trợ giúp pháp lý nhà nước tư vấn miễn phí cho 85 lượt người dân tộc thiểu số.</p>
